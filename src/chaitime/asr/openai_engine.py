"""openai-whisper (PyTorch) engine: the default when a CUDA GPU is usable. The only module that
imports torch and whisper for transcription.

Stock ``whisper.transcribe()`` decodes one 30 s window at a time, conditioned on the previous
text: the GPU idles and a hallucination feeds the next window. Here, like faster-whisper's
BatchedInferencePipeline: VAD finds speech, speech is packed into windows of at most 30 s
(batching.pack_windows), each batch of windows is encoded once and decoded together with a
fixed shape and a fixed token budget, windows that fail openai-whisper's quality checks are
decoded again hotter with a fixed seed (the same audio always gives the same words), and words
are aligned per window by cross-attention (whisper.timing)."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..transcript.model import Segment, Word
from . import batching, cleanup, vad
from .engine import english_only_auto
from .models import ResolvedModel

SAMPLE_LEN = 224  # tokens per window: half of Whisper's text context (a 128 cap dropped 8% of words)
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
SEED = 1234  # sampling in the fallback draws from torch's generator, seeded per batch and temperature
CPU_BATCH = 4
INSTALL_HINT = "the GPU engine needs PyTorch and openai-whisper: `pip install torch openai-whisper`."


def installed() -> bool:
    from importlib.util import find_spec

    return find_spec("whisper") is not None and find_spec("torch") is not None


def cuda_available() -> bool:
    if not installed():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return f"openai-whisper {v('openai-whisper')}, torch {v('torch')}"
    except PackageNotFoundError as exc:
        raise ModelError(INSTALL_HINT) from exc


def _modules():
    try:
        import torch
        import whisper
        import whisper.timing
    except ImportError as exc:
        raise ModelError(INSTALL_HINT) from exc
    return torch, whisper


@functools.lru_cache(maxsize=2)
def load_model(ref: str, name: str, device: str, *, fp16_weights: bool = True):
    """A Whisper model on ``device`` from a faster-whisper folder (converted in memory), an
    openai-whisper .pt file, or a name openai-whisper downloads; loaded once per process.
    ``fp16_weights=False`` keeps openai-whisper's own fp32 weights (the benchmark's stock run)."""
    torch, whisper = _modules()
    path = Path(ref)
    try:
        model = _from_folder(path) if path.is_dir() else whisper.load_model(ref if path.is_file() else name, device="cpu")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch.load/hub raise many kinds
        raise ModelError(f"can't load Whisper model {ref!r} with openai-whisper: {str(exc).splitlines()[0][:200]}. Pass --model PATH to a model folder.") from exc
    if name in whisper._ALIGNMENT_HEADS:
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[name])
    if device == "cuda" and fp16_weights:
        _weights_to_fp16(model)
    return model.to(device).eval()


def _from_folder(path: Path):
    torch, whisper = _modules()
    from .convert import openai_weights

    weights = openai_weights(path)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**weights.dims))
    model.load_state_dict({k: torch.from_numpy(a.copy()) for k, a in weights.state.items()})
    if weights.alignment_heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in weights.alignment_heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model


def _weights_to_fp16(model) -> None:
    """Cast matrices to fp16 once. openai-whisper keeps fp32 weights and casts them on every call
    (measured on an H100: 1.66 s vs 1.35 s warm); its LayerNorm computes in fp32, so norms stay."""
    torch, _ = _modules()
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Embedding)):
            module.half()


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self, model: ResolvedModel, device: str, batch_size: int | None = None) -> None:
        self.torch, self.whisper = _modules()
        self.device = device
        self.model_name = model.name
        self.model = load_model(model.ref, model.name, device)
        self.fp16 = device == "cuda"
        self.batch_size = batch_size or self._batch_size()

    def _batch_size(self) -> int:
        if self.device != "cuda":
            return CPU_BATCH
        free_bytes, _ = self.torch.cuda.mem_get_info()
        return batching.batch_size_for(free_bytes, vars(self.model.dims))

    @property
    def multilingual(self) -> bool:
        return bool(self.model.is_multilingual)

    def transcribe(self, audio: np.ndarray, *, language: str | None) -> tuple[list[Segment], str]:
        """VAD, pack, decode in batches, align words, stitch in order on ``audio``'s timeline."""
        language = self.check(language)
        spans = vad.speech_spans(audio)
        languages: Counter = Counter()

        def decode(found_spans: list[tuple[int, int]]) -> list[Segment]:
            segments, seen = self._windows(audio, batching.pack_windows(found_spans), language, ())
            languages.update(seen)
            return segments

        segments = vad.fill_uncovered(spans, decode(spans), lambda segs: [(w.start_s, w.end_s) for s in segs for w in s.words], decode)
        segments = sorted(segments, key=lambda s: s.start_s)
        return segments, language or (languages.most_common(1)[0][0] if languages else "en")

    def decode_spans(self, audio: np.ndarray, spans: list[tuple[int, int]], language: str, hotwords: tuple[str, ...]) -> list[Segment]:
        """``spans`` decoded in batches with ``hotwords`` as the initial prompt (vocabulary.correct)."""
        return self._windows(audio, batching.pack_windows(spans), language, hotwords)[0]

    def _windows(self, audio: np.ndarray, windows: list[batching.Window], language: str | None, vocabulary: tuple[str, ...]) -> tuple[list[Segment], Counter]:
        segments, languages = [], Counter()
        for batch in batching.fixed_batches(len(windows), self.batch_size, pad=self.device == "cuda"):
            real = list(dict.fromkeys(batch))  # padding repeats the last window; keep each once
            mel = self._mel(audio, [windows[i] for i in batch])
            results, unsure = self._decode(mel, language, vocabulary)
            for slot, index in enumerate(real):
                result = results[slot]
                if cleanup.unlikely_speech(result.no_speech_prob, result.avg_logprob, result.compression_ratio):
                    continue
                languages[result.language] += 1
                found = self._segments(result, windows[index], mel[slot])
                segments += [replace(x, flag="language") for x in found] if unsure[slot] else found
        return segments, languages

    def check(self, language: str | None) -> str | None:
        """The language to decode with; an English-only model refuses any other, and detection."""
        if self.model.is_multilingual:
            return language
        if language is None:
            raise ModelError(english_only_auto(self.model_name))
        if language != "en":
            raise ModelError(f"this model is English-only; it can't transcribe language {language!r}. Use a multilingual model (e.g. small).")
        return "en"

    def _mel(self, audio: np.ndarray, windows: list[batching.Window]):
        """Log-mel of each window padded to 30 s. One window at a time: whisper's log-mel floor
        (max - 8) would otherwise be taken over the whole batch and couple the windows."""
        w, torch = self.whisper, self.torch
        mels = [w.log_mel_spectrogram(w.pad_or_trim(torch.from_numpy(np.ascontiguousarray(audio[x.start:x.end]))), self.model.dims.n_mels, device=self.device)
                for x in windows]
        mel = torch.stack(mels)
        return mel.half() if self.fp16 else mel

    def _decode(self, mel, language: str | None, vocabulary: tuple[str, ...]) -> tuple[list, list[bool]]:
        """Encode once, decode at temperature 0, then re-decode failed windows hotter (padded
        back to the batch shape, seeded) the way openai-whisper's transcribe falls back. Also
        which windows failed at temperature 0: sampling then writes fluent text for speech the
        model can't read (German through tiny.en), so those are flagged "language" whatever the
        fallback found. Text only, no timestamp tokens: a window is decoded whole (with timestamps Whisper drops a trailing
        half sentence, which stock transcribe re-reads by seeking; batches can't seek); times
        come from the word alignment, as in faster-whisper's batched pipeline."""
        torch, w = self.torch, self.whisper
        options = w.DecodingOptions(language=language, temperature=0.0, sample_len=SAMPLE_LEN, fp16=self.fp16,
                                    prompt=_prompt(vocabulary), without_timestamps=True)
        with torch.no_grad():
            features = self.model.embed_audio(mel)
            results = w.decode(self.model, features, options)
            unsure = [cleanup.needs_fallback(r.no_speech_prob, r.avg_logprob, r.compression_ratio) for r in results]
            for step, temperature in enumerate(FALLBACK_TEMPERATURES):
                redo = [i for i, r in enumerate(results) if cleanup.needs_fallback(r.no_speech_prob, r.avg_logprob, r.compression_ratio)]
                if not redo:
                    break
                picked = redo + [redo[-1]] * (len(results) - len(redo)) if self.fp16 else redo
                with torch.random.fork_rng(devices=[features.device] if features.is_cuda else []):
                    torch.manual_seed(SEED + step)
                    again = w.decode(self.model, features[picked], replace(options, temperature=temperature))
                for i, result in zip(redo, again):
                    results[i] = result
        return results, unsure

    def _segments(self, result, window: batching.Window, mel) -> list[Segment]:
        """Words of one window timed by cross-attention alignment, moved by the window's offset
        into the chunk's timeline, grouped into sentence segments."""
        w = self.whisper
        tokenizer = w.tokenizer.get_tokenizer(self.model.is_multilingual, num_languages=self.model.num_languages,
                                              language=result.language, task="transcribe")
        tokens = [t for t in result.tokens if t < tokenizer.eot]
        piece = dict(seek=0, start=0.0, end=window.duration_s, tokens=tokens, text=tokenizer.decode(tokens))
        with self.torch.no_grad():
            w.timing.add_word_timestamps(segments=[piece], model=self.model, tokenizer=tokenizer, mel=mel,
                                         num_frames=(window.end - window.start) // w.audio.HOP_LENGTH, last_speech_timestamp=0.0)
        return batching.sentences([_word(x, window) for x in piece.get("words", ())])


def _prompt(vocabulary: tuple[str, ...]) -> str | None:
    """Names and jargon as an initial prompt: Whisper spells words it has just 'seen'."""
    return f"Glossary: {', '.join(vocabulary)}." if vocabulary else None


def _word(timed: dict, window: batching.Window) -> Word:
    def at(t: float) -> float:
        return round(window.offset_s + min(max(float(t), 0.0), window.duration_s), 3)

    return Word(at(timed["start"]), at(timed["end"]), timed["word"], float(timed["probability"]))
