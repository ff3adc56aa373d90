"""The baseline a benchmark compares with: one chaitime subpackage as it was at a git commit,
loaded beside today's as a package of its own (its modules import each other; its relative
imports of the rest of chaitime resolve to today's code). Shared by the bench_* scripts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_at(commit: str, subpackage: str, cache: Path, links: tuple[str, ...] = ()):
    """``chaitime.<subpackage>`` at ``commit`` as the module ``chaitime._<subpackage>_<commit>``;
    ``links`` are data folders of the subpackage linked in from today's tree (weights, templates)."""
    name = f"chaitime._{subpackage}_{commit}"
    if name in sys.modules:
        return sys.modules[name]
    folder = Path(cache) / f"_{subpackage}_{commit}"
    folder.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{commit}:src/chaitime/{subpackage}/"],
                            capture_output=True, text=True, check=True).stdout.split()
    for module in (m for m in listed if m.endswith(".py")):
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/chaitime/{subpackage}/{module}"],
                                capture_output=True, text=True, check=True).stdout
        (folder / module).write_text(source)
    for link in links:
        if not (folder / link).exists():
            (folder / link).symlink_to(ROOT / "src" / "chaitime" / subpackage / link)
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package  # dataclasses and relative imports look their package up
    spec.loader.exec_module(package)
    return package
