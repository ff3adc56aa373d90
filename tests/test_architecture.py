"""The layers and the one-owner rules, read from the source (ast), and docs/architecture.md's
tables against the code that declares them. Unit tier: no media, no Whisper."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chaitime.pipeline import graph
from chaitime.workspace import FOLDER

SRC = Path(__file__).resolve().parents[1] / "src" / "chaitime"
DOC = SRC.parents[1] / "docs" / "architecture.md"


def modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(SRC)): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))}


def imported(rel: str, tree: ast.Module) -> set[str]:
    """The chaitime modules (dotted, below chaitime.) and the outside packages ``rel`` imports."""
    package = ["chaitime", *Path(rel).parent.parts]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                found |= {mod} if node.module else {f"{mod}.{a.name}" for a in node.names}
            else:
                found.add(node.module or "")
    return found


def strings(tree: ast.Module) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def offenders(rule) -> list[str]:
    return sorted(rel for rel, tree in modules().items() if rule(rel, tree))


def test_media_knows_nothing_of_edit_writing_or_publish():
    above = ("chaitime.edit", "chaitime.writing", "chaitime.publish", "chaitime.pipeline", "chaitime.studio", "chaitime.cli")
    assert offenders(lambda rel, t: rel.startswith("media/") and any(m.startswith(above) for m in imported(rel, t))) == []


def test_transcript_is_at_the_bottom():
    core = ("chaitime.transcript", "chaitime.errors", "chaitime.fsutil", "chaitime.intervals")
    assert offenders(lambda rel, t: rel.startswith("transcript/")
                     and any(m.startswith("chaitime") and not m.startswith(core) for m in imported(rel, t))) == []


def test_only_faces_and_backends_call_the_pipeline_and_only_cli_imports_click():
    faces = ("pipeline/", "cli/", "studio/", "batch/")
    assert offenders(lambda rel, t: not rel.startswith(faces) and any(m.startswith("chaitime.pipeline") for m in imported(rel, t))) == []
    assert offenders(lambda rel, t: not rel.startswith("cli/") and "click" in imported(rel, t)) == []


def test_only_the_runner_names_the_records():
    assert offenders(lambda rel, t: {"stages.json", "stages.params.json"} & strings(t)) == ["pipeline/runner.py"]


def test_only_the_registry_spells_the_episode_folder_names():
    names = {f.name for f in FOLDER}
    spelled = {rel: sorted(names & strings(t)) for rel, t in modules().items() if names & strings(t)}
    assert list(spelled) == ["workspace.py"], spelled


def test_every_owner_is_a_stage_and_every_key_a_declared_stage():
    stages = {s.name for s in graph.STAGES}
    owners = {o.strip() for f in FOLDER for o in f.owner.split(",")}
    assert owners - stages <= {"host", "ingest", "studio"}
    keyed = set()
    for tree in modules().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "stage_key" and isinstance(node.args[0], ast.Constant):
                keyed.add(node.args[0].value)
    assert keyed and keyed <= stages
    for stage in graph.STAGES:
        assert (SRC / "pipeline" / f"{stage.module}.py").is_file(), stage
        assert stage.writes, f"{stage.name} owns no file in workspace.FOLDER"


def test_docs_architecture_shows_the_table_the_code_declares():
    text = DOC.read_text(encoding="utf-8")
    if graph.docs_with_tables(text) != text:
        pytest.fail("docs/architecture.md's tables differ from the code: run `python scripts/architecture_doc.py`")
    for stage in graph.STAGES:
        assert f"| {stage.name} | {stage.version} |" in text


def test_engine_device_and_format_choices_come_from_one_registry():
    """The CLI's choices, chaitime.toml's validation and the engine chooser read the same lists."""
    from chaitime import config
    from chaitime.asr import engine
    from chaitime.cli import commands
    from chaitime.transcript.formats import WRITERS, format_for

    assert tuple(commands.ENGINE_CHOICE.choices) == config.ENGINES
    assert tuple(commands.DEVICE_CHOICE.choices) == config.DEVICES
    assert engine.ENGINES == tuple(e for e in config.ENGINES if e != "auto")
    assert format_for("talk.podcast.json") == "podcast.json" and format_for("a.VTT") == "vtt" and format_for("a.mp3") is None
    assert set(WRITERS) == {"json", "vtt", "srt", "txt", "podcast.json"}
    spelled = offenders(lambda rel, t: rel not in ("config.py",) and {"faster-whisper", "openai-whisper"} <= strings(t)
                        and any(isinstance(n, ast.Tuple | ast.List) and {getattr(e, "value", None) for e in n.elts} >= {"faster-whisper", "openai-whisper"}
                                for n in ast.walk(t)))
    assert spelled == [], spelled  # nobody lists the engines again


def test_the_chapter_type_lives_beside_the_transcript():
    """Render, the feed and the studio read chapters without importing the draft's writer."""
    from chaitime.transcript import chapters
    from chaitime.writing import chapters as drafting

    assert drafting.Chapter is chapters.Chapter
    below_writing = ("edit/", "publish/", "pipeline/", "media/", "transcript/")
    assert offenders(lambda rel, t: rel.startswith(below_writing) and "chaitime.writing.chapters.Chapter" in imported(rel, t)) == []
