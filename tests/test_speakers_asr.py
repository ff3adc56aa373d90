"""Speaker attribution on a real Whisper transcript of the synthesized interview (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from chaitime import sample
from chaitime.speakers import attribute
from chaitime.speakers.names import name_speakers

asr = pytest.importorskip("chaitime.asr", reason="chaitime.asr not written yet")
if not hasattr(asr, "transcribe"):
    pytest.skip("chaitime.asr.transcribe not written yet", allow_module_level=True)


@pytest.mark.slow
def test_whisper_words_of_a_mixed_interview_get_the_right_names(tmp_path):
    tracks, lines = sample.synthesize_tracks(sample.DEFAULT_SCRIPT)
    mix = sum(t.astype(np.int32) for t in tracks.values()).astype(np.int16)
    sample.write_wav(tmp_path / "mix.wav", mix, sample.ESPEAK_RATE_HZ)
    transcript = asr.transcribe(tmp_path / "mix.wav")
    named, mapping = name_speakers(attribute(transcript, mix_path=tmp_path / "mix.wav"), hosts=[sample.HOST], guests=[sample.GUEST], mapping={})
    assert mapping == {"S1": sample.HOST, "S2": sample.GUEST}
    words = [w for w in named.words if w.text.strip()]
    assert len(words) == len(transcript.words)

    def truth(w):
        middle = (w.start_s + w.end_s) / 2
        return min(lines, key=lambda ln: 0 if ln.start_s - 0.05 <= middle <= ln.end_s + 0.05 else abs((ln.start_s + ln.end_s) / 2 - middle)).speaker

    assert sum(w.speaker == truth(w) for w in words) / len(words) >= 0.95
