"""A native crash, on purpose, for tests/test_batch.py: on PYTHONPATH (with CHAITIME_TEST_CRASH
set to part of an episode's folder name) it makes the speech recogniser segfault while decoding
that episode, as CTranslate2's word alignment once did on a radio recording. Nothing else loads it."""

import os

_WHERE = os.environ.get("CHAITIME_TEST_CRASH")
if _WHERE:
    import ctypes

    import chaitime.asr as _asr

    _real = _asr._decode_chunk

    def _decode_chunk(options, threads, path, start, end):
        if _WHERE in str(path):
            ctypes.string_at(0)  # SIGSEGV
        return _real(options, threads, path, start, end)

    _decode_chunk.__qualname__ = _real.__qualname__  # pickled by reference, as the real one is
    _asr._decode_chunk = _decode_chunk
