"""Decoding in a child process. A native crash inside an engine (CTranslate2's word alignment
once double-freed on a window it should never have been given) then fails the one recording
being decoded, with one line, instead of taking down the process: a batch's other episodes, a
Ray actor, the studio. The child keeps its engines loaded between calls (the engines' own
per-process cache), so a batch loads the model once per lane.

The protocol is pickled (function, arguments) requests on the child's stdin and pickled
replies on a pipe of its own; the child's stdout goes to its stderr so no library can write
into the replies, and its stderr goes to a file whose last line names a crash. Log records the
child makes come back with each reply and are handled here, as if made in this process."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from ..errors import ModelError

log = logging.getLogger("chaitime")


class Worker:
    """One child process serving calls one at a time."""

    def __init__(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        read_fd, self._write_fd = os.pipe()
        env = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # a native crash leaves its stack in the child's stderr
        self.proc = subprocess.Popen([sys.executable, "-c", f"from chaitime.asr.worker import serve; serve({self._write_fd})"],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.stderr, env=env,
                                     pass_fds=(self._write_fd,), start_new_session=True)  # Ctrl-C reaches us, not the child
        os.close(self._write_fd)
        self.replies = os.fdopen(read_fd, "rb")

    def call(self, fn: Callable, *args: Any) -> Any:
        """``fn(*args)`` in the child: its result, or its exception raised here."""
        try:
            pickle.dump((fn, args, log.getEffectiveLevel()), self.proc.stdin)
            self.proc.stdin.flush()
            ok, value, records = pickle.load(self.replies)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError, OSError) as exc:
            raise self._crashed() from exc
        except BaseException:  # interrupted mid-call: the child's state is unknown
            self.close()
            raise
        for record in records:
            logging.getLogger(record.name).handle(record)
        if not ok:
            raise value
        return value

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _crashed(self) -> ModelError:
        code = self.proc.wait()
        self.stderr.seek(0)
        lines = [line.strip() for line in self.stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        said = next((line for line in lines if not line.startswith(("File ", "Thread ", "Current thread", "Fatal Python", "Extension modules"))), "")
        how = f"signal {signal.Signals(-code).name}" if code < 0 and -code in signal.valid_signals() else f"exit code {code}"
        self.close()
        return ModelError(f"the speech recogniser crashed ({how}{': ' + said[:120] if said else ''}). This is a bug; "
                          "run again with another --engine or --model, and report it with the recording.")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.replies, self.stderr):
            try:
                stream.close()
            except OSError:
                pass


class Pool:
    """At most ``size`` workers at once (calls beyond that wait); an idle worker is reused, a
    crashed one replaced by a fresh one on the next call."""

    def __init__(self) -> None:
        self._idle: list[Worker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(1)

    def resize(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, size))

    def call(self, fn: Callable, *args: Any) -> Any:
        slots = self._slots
        with slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker.alive():
                worker = Worker()
            try:
                result = worker.call(fn, *args)
            except BaseException:
                if worker.alive():  # a refusal (a bad model), not a crash: the worker serves on
                    self._keep(worker)
                raise
            self._keep(worker)
            return result

    def _keep(self, worker: Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


def serve(reply_fd: int) -> None:
    """The child's loop: read a request, run it, send the reply; end when the parent goes."""
    replies = os.fdopen(reply_fd, "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    collected: list[logging.LogRecord] = []
    handler = _Collect(collected)
    logging.getLogger().addHandler(handler)
    requests = sys.stdin.buffer
    while True:
        try:
            fn, args, level = pickle.load(requests)
        except EOFError:
            return
        logging.getLogger("chaitime").setLevel(level)
        try:
            reply = (True, fn(*args))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = (False, exc if _picklable(exc) else ModelError(f"{type(exc).__name__}: {exc}"))
        reply, collected[:] = (*reply, list(collected)), []
        pickle.dump(reply, replies)
        replies.flush()


class _Collect(logging.Handler):
    def __init__(self, into: list) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None  # arguments may not pickle
        self.into.append(record)


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:  # noqa: BLE001
        return False
