"""The decoding worker: a native crash in the child is one ModelError naming the signal, the
pool serves on, a child's exception and log records come back as if raised and made here."""

import logging
import os

import pytest

from chaitime.asr import worker
from chaitime.errors import ModelError


@pytest.fixture
def pool():
    p = worker.Pool()
    yield p
    p.close()


def test_a_crash_in_the_child_is_one_model_error_and_the_pool_serves_on(pool):
    parent = os.getpid()
    first = pool.call(os.getpid)
    assert first != parent
    with pytest.raises(ModelError) as err:
        pool.call(os.abort)
    assert "crashed (signal SIGABRT" in str(err.value)
    assert err.value.exit_code == 5
    again = pool.call(os.getpid)
    assert again not in (parent, first)  # a fresh child replaced the crashed one


def test_an_idle_worker_is_reused_and_keeps_serving_after_an_exception(pool):
    first = pool.call(os.getpid)
    with pytest.raises(ValueError, match="invalid literal"):
        pool.call(int, "not a number")
    assert pool.call(os.getpid) == first


def test_log_records_made_in_the_child_are_handled_here(pool, caplog):
    with caplog.at_level(logging.INFO, logger="chaitime"):
        pool.call(logging.getLogger("chaitime.asr").warning, "window %s of %s refused", 3, 7)
    assert "window 3 of 7 refused" in caplog.text
    assert any(r.name == "chaitime.asr" and r.levelno == logging.WARNING for r in caplog.records)


def test_what_a_library_prints_in_the_child_never_reaches_the_replies(pool):
    assert pool.call(print, "noise on stdout") is None
    assert pool.call(os.getpid) > 0
