"""Speaker labels on conversations of real readers (tests/realvoices.py, LibriSpeech), with real
Whisper tiny.en words: each conversation is transcribed once per module. Skips without ../shared."""

from __future__ import annotations

import numpy as np
import pytest

import realvoices as rv
from chaitime.config import PLACEHOLDER_NAME
from chaitime.speakers import attribute, channels_independent
from chaitime.speakers.names import HOST_ROLE, name_speakers

pytestmark = pytest.mark.slow
TURNS = 12


@pytest.fixture(scope="module")
def conversations(shared_media, tmp_path_factory):
    """name/variant -> (Conversation, wav, tiny.en transcript), made on first use."""
    from chaitime import asr

    folder, made = tmp_path_factory.mktemp("real"), {}

    def get(name: str, variant: str = "plain"):
        if (name, variant) not in made:
            conv = rv.assemble(shared_media, name, variant, turns=TURNS)
            wav = conv.write_wav(folder / f"{name}-{variant}.wav")
            made[name, variant] = (conv, wav, asr.transcribe(wav))
        return made[name, variant]

    return get


@pytest.mark.parametrize("name", list(rv.CONVERSATIONS))
def test_every_conversation_count_estimated_and_words_right(conversations, name):
    conv, wav, words = conversations(name)
    labeled = attribute(words, mix_path=wav)
    assert len(labeled.speakers()) == len(conv.speakers)
    assert len(labeled.words) == len(words.words) > 50
    assert rv.word_accuracy(labeled.words, conv) >= 0.97


def test_one_guest_named_with_three_voices_still_finds_three(conversations):
    conv, wav, words = conversations("three-voices")
    labeled = attribute(words, mix_path=wav, expected_speakers=2)
    assert len(labeled.speakers()) == 3
    assert rv.word_accuracy(labeled.words, conv) >= 0.97


@pytest.mark.parametrize("variant", ["imbalanced", "noisy"])
def test_same_gender_variants(conversations, variant):
    conv, wav, words = conversations("female-female", variant)
    labeled = attribute(words, mix_path=wav)
    assert len(labeled.speakers()) == 2 and rv.word_accuracy(labeled.words, conv) >= 0.97


def test_stereo_with_bleed_is_one_person_per_channel(conversations):
    conv, wav, words = conversations("male-female", "stereo-bleed")
    assert channels_independent(wav) is True
    labeled = attribute(words, mix_path=wav)
    assert labeled.meta["speakers"]["method"] == "stereo"
    assert rv.word_accuracy(labeled.words, conv) >= 0.99


def test_placeholder_host_is_never_a_label_and_track_names_are_kept(conversations, tmp_path):
    conv, wav, words = conversations("male-female")
    named, mapping = name_speakers(attribute(words, mix_path=wav), hosts=[PLACEHOLDER_NAME], guests=["Ada Guest"], mapping={})
    assert PLACEHOLDER_NAME not in {w.speaker for w in named.words}
    assert set(mapping.values()) == {HOST_ROLE, "Ada Guest"}
    # --track: one file per reader, names kept whatever the show's host and guests are
    tracks = {}
    for reader, person in zip(conv.speakers, ("Maya Host", "Bo Guest")):
        voice = np.zeros_like(conv.samples)
        for t in conv.turns:
            if t.speaker == reader:
                a, b = int(t.start_s * rv.RATE_HZ), int(t.end_s * rv.RATE_HZ)
                voice[a:b] = conv.samples[a:b]
        tracks[person] = rv.Conversation(person, voice, conv.turns).write_wav(tmp_path / f"{reader}.wav")
    by_track = attribute(words, mix_path=wav, tracks=tracks)
    named, mapping = name_speakers(by_track, hosts=[PLACEHOLDER_NAME], guests=["Ada Guest"], mapping={})
    assert set(mapping.values()) == {"Maya Host", "Bo Guest"}
    truth = {r: p for r, p in zip(conv.speakers, ("Maya Host", "Bo Guest"))}
    assert rv.word_accuracy(named.words, conv, {p: r for r, p in truth.items()}) >= 0.99


def test_short_flips_smoothed_and_real_interjections_kept(shared_media, tmp_path):
    """A conversation with 4 short real interjections (0.5-1 s of another reader between two
    turns of one): the labelled words show as many speaker blocks as the true turns they hold
    (within rv.block_bound), every interjection Whisper heard keeps its own label, words right."""
    from chaitime import asr

    conv = rv.assemble(shared_media, "male-female", "plain", turns=TURNS, interjections=4)
    wav = conv.write_wav(tmp_path / "interjections.wav")
    words = asr.transcribe(wav)
    labeled = attribute(words, mix_path=wav)
    true = rv.true_blocks(labeled.words, conv)
    blocks = rv.speaker_blocks([w.speaker for w in labeled.words])
    assert true >= TURNS + 2  # some interjections were heard, so there is something to keep
    assert abs(blocks - true) <= rv.block_bound(true)
    assert rv.word_accuracy(labeled.words, conv) >= 0.97
    mapping = rv.best_mapping([w.speaker for w in labeled.words], [conv.speaker_at(w.start_s, w.end_s) for w in labeled.words])
    for turn in (t for t in conv.turns if t.utterance.endswith("-start")):
        heard = [w for w in labeled.words if turn.start_s <= (w.start_s + w.end_s) / 2 <= turn.end_s]
        assert all(mapping[w.speaker] == turn.speaker for w in heard), (turn, heard)


def test_quick_telephone_exchange_finds_both_voices(shared_media):
    """shared/media/two-speakers.wav (30 s, turns of 0.5-4 s): tiny.en's words alone hold too few
    voice windows to believe a second voice, so the detector's speech is asked too; both women
    are found and most words go to the one who said them (reference: two-speakers.stm)."""
    from chaitime import asr

    wav = shared_media / "two-speakers.wav"
    labeled = attribute(asr.transcribe(wav), mix_path=wav)
    turns = [line.split(maxsplit=5) for line in (shared_media / "two-speakers.stm").read_text().splitlines() if line.strip()]

    def said_by(w):
        mid = (w.start_s + w.end_s) / 2
        return min(turns, key=lambda t: 0 if float(t[3]) <= mid <= float(t[4]) else min(abs(mid - float(t[3])), abs(mid - float(t[4]))))[2]

    truth = [said_by(w) for w in labeled.words]
    labels = [w.speaker for w in labeled.words]
    assert len(set(labels)) == 2
    mapping = rv.best_mapping(labels, truth)
    # 0.85 with last wave's dependencies; 0.836 with this wave's fresh install (numpy, onnxruntime,
    # ctranslate2, ffmpeg each ruled out): "Neither did I" heard as "I need the design" inside the
    # other woman's segment, and a 20 ms turn change. Of 73 words, 61 right.
    assert np.mean([mapping[h] == r for h, r in zip(labels, truth)]) >= 0.8
