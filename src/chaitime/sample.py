"""A self-made sample interview: two eSpeak NG voices reading a script, muxed into an .mp4.

Used by ``chaitime demo`` and by the tests, so nobody needs a real recording to try chaitime.
eSpeak NG is driven through ctypes from the ``espeakng-loader`` wheel (library + voice data);
this is the only module that imports it.

eSpeak seeds its random generator from the clock and carries state (pitch phase, random
draws) from one utterance to the next, so the same text spoken twice gives slightly different
samples. To keep "same script, same samples", we fix the seed and every ``synthesize`` call runs
the whole script in a fresh child process
(``python -m chaitime.sample --espeak-worker``) that initializes eSpeak once and speaks the
lines in order.
"""

from __future__ import annotations

import ctypes
import json
import logging
import struct
import subprocess
import sys
import tempfile
import threading
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError, ToolError
from .fsutil import atomic_path
from .media import ffmpeg

log = logging.getLogger("chaitime")

ESPEAK_RATE_HZ = 22050
LEAD_IN_S = 0.5  # silence before the first line, like a real recording's start
SILENCE_LEVEL = 64  # |sample| at or below this counts as eSpeak's own silence (it emits exact zeros)
DEFAULT_VOICES = ("en-us", "en-us+f2")  # first speaker: male US voice; second: female variant
SPEECH_RATE_WPM = 160  # a little slower than eSpeak's 175: clearer for Whisper tiny
RANDOM_SEED = 20240601
INSTALL_HINT = "eSpeak NG is missing: `pip install espeakng-loader` (it ships the library and voices)."


@dataclass(frozen=True)
class Line:
    """One line of a script."""

    speaker: str
    text: str
    pause_after_s: float = 0.6


@dataclass(frozen=True)
class SpokenLine:
    """Where a line's speech (eSpeak's own leading/trailing silence trimmed) landed in the audio."""

    speaker: str
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SampleRecording:
    path: Path
    lines: list[SpokenLine]
    duration_s: float


HOST = "Maya Patel"
GUEST = "Sam Okafor"

# ~70 s. Two topics (Kaggle, then deployment), two "um"s, and one 2.5 s pause for silence cuts.
DEFAULT_SCRIPT: tuple[Line, ...] = (
    Line(HOST, "Welcome to the show. I am Maya Patel, and today my guest is Sam Okafor."),
    Line(GUEST, "Thanks for having me, Maya. It is great to be here."),
    Line(HOST, "Let us start with Kaggle. How did you get started with data science competitions?"),
    Line(GUEST, "Um, I started with the Titanic competition. It is small, and the data is easy to understand."),
    Line(HOST, "What did you learn from your first competitions?", pause_after_s=0.8),
    Line(GUEST, "I learned to trust my own test results more than the public leaderboard.", pause_after_s=2.5),
    Line(HOST, "Now let us talk about deploying models. What changes when a model goes to production?"),
    Line(GUEST, "Everything changes. You care about latency, memory, and monitoring the input data."),
    Line(HOST, "How do you know when a model needs to be retrained?"),
    Line(GUEST, "When the input data changes over time, the accuracy drops, so we retrain every month."),
    Line(HOST, "Do you have one tip for people shipping their first model?"),
    Line(GUEST, "Um, yes. Start with a simple model behind a small web service, and log every prediction."),
    Line(HOST, "Great advice. Thank you, Sam, and thanks everyone for listening.", pause_after_s=1.0),
)

# ~3.5 min, three topics with separate vocabularies, for chapter segmentation.
_TOPIC_1 = (
    Line(HOST, "Welcome back to the show. Today I am talking with Sam Okafor about three very different things."),
    Line(GUEST, "Thanks, Maya. I am happy to be here again."),
    Line(HOST, "First, Kaggle competitions. How should a beginner choose a competition?"),
    Line(GUEST, "Pick a tabular competition with a clean dataset and an active discussion forum."),
    Line(HOST, "How do you avoid overfitting to the public leaderboard?"),
    Line(GUEST, "Build a cross validation scheme that matches the test split, and trust it."),
    Line(HOST, "What about feature engineering?"),
    Line(GUEST, "Most of my medals came from careful features, not from bigger models or ensembles."),
    Line(HOST, "And do you read other notebooks in the competition?"),
    Line(GUEST, "Always. Public notebooks teach you new tricks, and the forum explains why they work."),
    Line(HOST, "Should a beginner join a team?"),
    Line(GUEST, "Yes, after a few solo competitions. Teammates bring different models, and blending them climbs the leaderboard."),
    Line(HOST, "How much time does a competition take?"),
    Line(GUEST, "Most competitions run for three months. I spend a few evenings every week on experiments."),
    Line(HOST, "What was your best result?"),
    Line(GUEST, "A gold medal in a sales forecasting competition, thanks to a simple gradient boosting model."),
)
_TOPIC_2 = (
    Line(HOST, "Let us change the subject to deployment. How do you put a model into production?"),
    Line(GUEST, "I package the model in a container and serve it behind a web server with an API."),
    Line(HOST, "How do you keep latency low for users?"),
    Line(GUEST, "We batch requests, keep the model in memory, and cache frequent answers."),
    Line(HOST, "What do you monitor once the service is running?"),
    Line(GUEST, "We watch error rates, response times, and drift in the incoming data."),
    Line(HOST, "And how do you roll out a new version safely?"),
    Line(GUEST, "We send a small share of traffic to the new version first, and roll back if the metrics get worse."),
    Line(HOST, "Do you run models on a GPU or on a CPU?"),
    Line(GUEST, "Small models run on a CPU, which is cheaper. Large language models need a GPU server."),
    Line(HOST, "How do you test a deployment before release?"),
    Line(GUEST, "Every commit runs unit tests, and a staging environment replays real requests against the new container."),
    Line(HOST, "What is the most common failure you see in production?"),
    Line(GUEST, "A change in the input schema. A renamed column can silently break every prediction."),
)
_TOPIC_3 = (
    Line(HOST, "Finally, something personal. I hear you love gardening."),
    Line(GUEST, "Yes. Every spring I plant tomatoes, peppers, and beans in my backyard."),
    Line(HOST, "What is the secret to growing good tomatoes?"),
    Line(GUEST, "Lots of sunshine, rich soil with compost, and watering deeply in the morning."),
    Line(HOST, "Do you grow flowers as well?"),
    Line(GUEST, "I grow sunflowers and lavender, because the bees love them and they help the vegetables."),
    Line(HOST, "What do you do with the harvest in the summer?"),
    Line(GUEST, "We make fresh salsa and tomato sauce, and we give the rest to our neighbors."),
    Line(HOST, "How do you protect the plants from insects and snails?"),
    Line(GUEST, "I pick the snails off by hand in the evening, and I plant marigolds near the tomatoes."),
    Line(HOST, "When do you start the seeds?"),
    Line(GUEST, "In early March, on a sunny windowsill, and I move the seedlings outside in May after the last frost."),
    Line(HOST, "Any advice for someone with only a small balcony?"),
    Line(GUEST, "Grow herbs like basil and mint in pots, and try one cherry tomato plant in a large container."),
    Line(HOST, "That sounds wonderful. Thank you, Sam, and thanks everyone for listening.", pause_after_s=1.0),
)
TOPIC_SCRIPT: tuple[Line, ...] = _TOPIC_1 + _TOPIC_2 + _TOPIC_3
TOPIC_BOUNDARIES: tuple[int, ...] = (len(_TOPIC_1), len(_TOPIC_1) + len(_TOPIC_2))


# --- synthesis -------------------------------------------------------------------------------


def synthesize(
    lines: Sequence[Line], *, voices: dict[str, str] | None = None, sample_rate_hz: int = ESPEAK_RATE_HZ
) -> tuple[np.ndarray, list[SpokenLine]]:
    """The whole script as int16 mono samples (lines back to back with their pauses), and where each line landed."""
    tracks, spoken, length = _render(lines, voices, sample_rate_hz)
    mix = np.zeros(length, dtype=np.int16)
    for track in tracks.values():
        np.add(mix, track, out=mix)  # speakers never overlap, so adding can't clip
    return mix, spoken


def synthesize_tracks(
    lines: Sequence[Line], *, voices: dict[str, str] | None = None, sample_rate_hz: int = ESPEAK_RATE_HZ
) -> tuple[dict[str, np.ndarray], list[SpokenLine]]:
    """One int16 track per speaker, all the same length, silent where the others talk (Zoom-style)."""
    tracks, spoken, _ = _render(lines, voices, sample_rate_hz)
    return tracks, spoken


def _render(
    lines: Sequence[Line], voices: dict[str, str] | None, sample_rate_hz: int
) -> tuple[dict[str, np.ndarray], list[SpokenLine], int]:
    lines = _check_lines(lines)
    voice_of = _assign_voices(lines, voices)
    raw = _speak_all([(voice_of[line.speaker], line.text) for line in lines])
    clips = [_trim(_resample(clip, ESPEAK_RATE_HZ, sample_rate_hz)) for clip in raw]
    starts, length = _layout(lines, clips, sample_rate_hz)
    tracks = {speaker: np.zeros(length, dtype=np.int16) for speaker in voice_of}
    spoken = []
    for line, clip, start in zip(lines, clips, starts):
        tracks[line.speaker][start : start + len(clip)] = clip
        spoken.append(SpokenLine(line.speaker, line.text, start / sample_rate_hz, (start + len(clip)) / sample_rate_hz))
    return tracks, spoken, length


def _check_lines(lines: Sequence[Line]) -> list[Line]:
    lines = list(lines)
    if not lines:
        raise InputError("sample script is empty: give at least one Line(speaker, text).")
    for i, line in enumerate(lines):
        if not line.text.strip() or line.pause_after_s < 0:
            raise InputError(f"sample script line {i}: needs non-empty text and a pause_after_s >= 0 (got {line!r}).")
    return lines


def _assign_voices(lines: Sequence[Line], voices: dict[str, str] | None) -> dict[str, str]:
    """Speakers in order of first appearance get DEFAULT_VOICES in turn, unless ``voices`` names one."""
    speakers = list(dict.fromkeys(line.speaker for line in lines))
    chosen = dict(voices or {})
    return {s: chosen.get(s, DEFAULT_VOICES[i % len(DEFAULT_VOICES)]) for i, s in enumerate(speakers)}


def _trim(clip: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(clip.astype(np.int32)) > SILENCE_LEVEL)
    return clip[loud[0] : loud[-1] + 1] if len(loud) else clip[:0]


def _layout(lines: Sequence[Line], clips: Sequence[np.ndarray], rate: int) -> tuple[list[int], int]:
    """Start sample of each clip: a lead-in, then each clip followed by exactly its line's pause."""
    starts, cursor = [], round(LEAD_IN_S * rate)
    for line, clip in zip(lines, clips):
        starts.append(cursor)
        cursor += len(clip) + round(line.pause_after_s * rate)
    return starts, cursor


def _resample(clip: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Linear-interpolation resampling: enough for synthetic speech and fully deterministic."""
    if from_hz == to_hz or len(clip) == 0:
        return clip
    n_out = round(len(clip) * to_hz / from_hz)
    t = np.arange(n_out) * (from_hz / to_hz)
    return np.round(np.interp(t, np.arange(len(clip)), clip.astype(np.float64))).astype(np.int16)


def _speak_all(requests: Sequence[tuple[str, str]]) -> list[np.ndarray]:
    """Speak (voice, text) pairs in a fresh child process (see module docstring) and return their samples."""
    payload = json.dumps([list(r) for r in requests]).encode("utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "chaitime.sample", "--espeak-worker"], input=payload, capture_output=True, check=False
    )
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        message = lines[-1] if lines else "no output"
        if proc.returncode == InputError.exit_code:  # the worker's own one-line InputError
            raise InputError(message)
        raise ToolError(f"eSpeak NG failed while synthesizing the sample: {message}")
    return _unpack(proc.stdout, len(requests))


def _unpack(data: bytes, count: int) -> list[np.ndarray]:
    clips, offset = [], 0
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        clips.append(np.frombuffer(data, dtype="<i2", count=n, offset=offset).astype(np.int16))
        offset += 2 * n
    return clips


# --- the eSpeak NG binding (runs inside the worker process) -----------------------------------

# speak_lib.h: espeak_AUDIO_OUTPUT {PLAYBACK=0, RETRIEVAL=1, SYNCHRONOUS=2, SYNCH_PLAYBACK=3};
# espeak_POSITION_TYPE POS_CHARACTER=1; espeakCHARS_UTF8=1; espeak_PARAMETER espeakRATE=1; EE_OK=0.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_engine_lock = threading.Lock()
_engine: _Espeak | None = None


class _Espeak:
    """eSpeak NG loaded once per process, collecting synthesized samples through its callback."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise InputError(INSTALL_HINT) from exc
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._declare()
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate != ESPEAK_RATE_HZ:
            raise ToolError(
                f"eSpeak NG failed to start (returned {rate}). Reinstall it: `pip install --force-reinstall espeakng-loader`."
            )
        self._chunks: list[np.ndarray] = []
        self.lib.espeak_ng_SetRandSeed(RANDOM_SEED)  # Initialize seeds from the clock; fix it for repeatable output
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept on self so ctypes never frees it
        self.lib.espeak_SetSynthCallback(self._callback)

    def _declare(self) -> None:
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]

    def _collect(self, wav, numsamples: int, events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0  # 0 = keep going

    def speak(self, voice: str, text: str) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise InputError(f"eSpeak NG has no voice {voice!r}. Use a name like 'en-us' or 'en-us+f2'.")
        self.lib.espeak_SetParameter(_ESPEAK_RATE, SPEECH_RATE_WPM, 0)
        self._chunks = []
        data = text.encode("utf-8") + b"\0"
        if self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None) != 0:
            raise ToolError(f"eSpeak NG could not speak {text[:40]!r}.")
        self.lib.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)


def _espeak() -> _Espeak:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Espeak()
        return _engine


def _worker_main() -> int:
    """Child-process side of ``_speak_all``: JSON [[voice, text], ...] on stdin, length-prefixed int16 on stdout."""
    try:
        requests = json.loads(sys.stdin.buffer.read())
        engine = _espeak()
        out = sys.stdout.buffer
        for voice, text in requests:
            clip = engine.speak(voice, text).astype("<i2")
            out.write(struct.pack("<I", len(clip)))
            out.write(clip.tobytes())
        out.flush()
    except (InputError, ToolError) as exc:
        sys.stderr.write(f"{exc}\n")  # the parent turns this line back into the same error
        return exc.exit_code
    return 0


# --- files -----------------------------------------------------------------------------------


def write_wav(path: Path, samples: np.ndarray, sample_rate_hz: int, channels: int = 1) -> None:
    """16-bit PCM WAV, written atomically. ``samples`` is (n,) or (n, channels); mono is copied to every channel."""
    frames = np.asarray(samples, dtype=np.int16)
    if frames.ndim == 1:
        frames = np.repeat(frames[:, None], channels, axis=1)
    if frames.shape[1] != channels:
        raise InputError(f"{path}: samples have {frames.shape[1]} channels but channels={channels}.")
    with atomic_path(Path(path)) as tmp:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(channels)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate_hz)
            wav.writeframes(frames.astype("<i2").tobytes())


def make_sample_recording(
    folder: Path,
    *,
    lines: Sequence[Line] = DEFAULT_SCRIPT,
    video: bool = True,
    name: str = "sample-interview.mp4",
    stereo: bool = False,
) -> SampleRecording:
    """Synthesize ``lines`` and save them as an .mp4 (test-pattern video, 44.1 kHz stereo AAC),
    or with video=False as a 44.1 kHz 16-bit stereo .wav (``name``'s suffix becomes .wav).

    Audio is dual mono by default; ``stereo=True`` puts the first speaker on the left channel
    and the second on the right, like a two-track call recording.
    """
    target = Path(folder) / (name if video else str(Path(name).with_suffix(".wav")))
    tracks, spoken = synthesize_tracks(lines)
    frames = _channels(list(tracks.values()), stereo)
    duration_s = len(frames) / ESPEAK_RATE_HZ
    with tempfile.TemporaryDirectory(prefix="chaitime-sample-") as scratch:
        wav_path = Path(scratch) / "speech.wav"
        write_wav(wav_path, frames, ESPEAK_RATE_HZ, channels=2)
        with atomic_path(target) as tmp:
            ffmpeg.run(_encode_args(wav_path, tmp, duration_s, video), what=f"making the sample recording {target}")
    return SampleRecording(path=target, lines=spoken, duration_s=duration_s)


def _channels(tracks: list[np.ndarray], stereo: bool) -> np.ndarray:
    """(n, 2) frames: dual mono of the mix, or first speaker left / everyone else right."""
    mix = np.sum(np.stack(tracks), axis=0, dtype=np.int32).astype(np.int16)
    if not stereo:
        return np.stack([mix, mix], axis=1)
    others = np.sum(np.stack(tracks[1:] or [np.zeros_like(mix)]), axis=0, dtype=np.int32).astype(np.int16)
    return np.stack([tracks[0], others], axis=1)


def _encode_args(wav_path: Path, out: Path, duration_s: float, video: bool) -> list[str]:
    audio = ["-ar", "44100", "-ac", "2"]
    if not video:
        return ["-i", ffmpeg.as_input(wav_path), *audio, "-c:a", "pcm_s16le", "-f", "wav", ffmpeg.as_input(out)]
    # testsrc2 has a moving pattern and a running counter, so cut video is visibly cut.
    pattern = f"testsrc2=size=640x360:rate=25:duration={duration_s:.3f}"
    return [
        "-f", "lavfi", "-i", pattern, "-i", ffmpeg.as_input(wav_path),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        *audio, "-c:a", "aac", "-b:a", "128k",
        "-shortest", "-movflags", "+faststart", "-f", "mp4", ffmpeg.as_input(out),
    ]  # fmt: skip


if __name__ == "__main__" and sys.argv[1:] == ["--espeak-worker"]:
    sys.exit(_worker_main())
