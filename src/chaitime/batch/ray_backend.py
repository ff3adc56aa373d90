"""The Ray backend: the same ``pipeline.ingest`` in long-lived Ray actors (the one module that
imports ray). Each actor holds its Whisper model for every episode it is given (the engine's
per-process cache), asks for a GPU where the cluster has them, and works on the workspace by its
path, so every node must see the workspace at the same path (a shared filesystem: docs/scale.md).

Where the cluster has GPUs (or ``split`` asks for it), an episode's stages are split across node
types: a Ray task on a CPU worker extracts, an actor holding the model transcribes (on a GPU), and
another CPU task runs the rest (speakers, studio sound, mastering, writing). Each part is the same
``pipeline.ingest`` told where to stop (IngestOptions.stop_after); the stage records hand the work
on. Transcription of one episode then overlaps with the CPU stages of others, on other nodes.

A failed episode (a ChaitimeError: bad input, a full disk) is an outcome, not retried. An actor
that dies, or an exception chaitime did not expect, is retried on a fresh actor up to RETRIES
times; the stage records make the retry resume where the dead one stopped.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from pathlib import Path

from ..errors import ChaitimeError, InputError
from ..workspace import Workspace

try:
    import ray
    from ray import exceptions as ray_errors
except ImportError as exc:  # pragma: no cover - the message is the test
    raise InputError("--backend ray needs Ray: `pip install \"chaitime[ray]\"` (or `pip install ray`), "
                     "or use --backend local.") from exc

RETRIES = 2
# Ray pins its workers to one BLAS thread (OMP_NUM_THREADS=1); the other stages get what a local run has.
_RUNTIME = {"env_vars": {name: str(os.cpu_count() or 1) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
_RAY_FAILURES = (ray_errors.RayActorError, ray_errors.RayTaskError, ray_errors.WorkerCrashedError)


class _Worker:
    """One long-lived process: the workspace opened once, the model cached by the engine."""

    def __init__(self, root: str, threads: int | None = None) -> None:
        from .. import asr

        self.ws = Workspace.open(Path(root))
        if threads:
            asr.set_lanes(1, threads)  # its share of the node's cores (on a GPU, the whole GPU)

    def ingest(self, ingest, job):
        from . import attempt

        return attempt(ingest, job, self.ws)


def connect(address: str | None, cpus: int | None = None) -> None:
    """Join the cluster at ``address`` ("auto", "ray://host:port") or start a local Ray; an
    unreachable address is one line with the fix, before any episode starts."""
    if ray.is_initialized():
        return
    if address and address not in ("auto", "local"):
        _reachable(address)
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
    try:
        if address and address != "local":
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=cpus, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:160]
        raise InputError(f"can't reach the Ray cluster at {address!r}: {detail}. Start it (`ray start --head`) or fix "
                         "[scale] address / --address (\"auto\", or \"ray://HOST:10001\"); --backend local runs here.") from exc


def _reachable(address: str) -> None:
    """A TCP connection to the head first: Ray itself retries an unreachable address for minutes."""
    import socket

    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"Ray address {address!r}: use \"auto\", \"HOST:PORT\" or \"ray://HOST:PORT\" (client port 10001).")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise InputError(f"can't reach the Ray cluster at {address!r} ({exc.strerror or exc}). Start it (`ray start --head`) "
                         "or fix [scale] address / --address; --backend local runs here.") from exc


def _cpu_part(root: str, ingest, job):
    """One CPU part of a split episode, in a Ray task: the workspace opened by its path."""
    from . import attempt

    return attempt(ingest, job, Workspace.open(Path(root)))


def run(jobs, ws: Workspace, *, workers: int | None, address: str | None, ingest, events, split: bool | None = None) -> list:
    connect(address)
    cpus = int(ray.available_resources().get("CPU", 1))
    gpus = int(ray.cluster_resources().get("GPU", 0))
    if split if split is not None else gpus > 0:
        # Transcribers: one per GPU (``workers`` caps them); on a CPU-only cluster half the CPUs,
        # one CPU at least left to the CPU tasks, each decoding with one thread.
        on_gpu = gpus > 0 and gpus >= min(workers or gpus, len(jobs))
        count = max(1, min(workers or gpus, len(jobs))) if on_gpu else max(1, min(workers or cpus // 2, cpus - 1, len(jobs)))
        # A transcriber holds a CPU of Ray's count, unless that would leave the CPU tasks none.
        actor_cpus, threads, parts, on_actor = 1 if on_gpu or cpus > count else 0, None if on_gpu else 1, SPLIT_PARTS, 1
    else:
        # One actor per GPU; on CPU-only clusters one per CPU, each decoding with one thread (as the
        # local batch's lanes: on 2 cores, two one-thread decodes side by side beat one two-thread
        # decode after another by 1.3x). CTranslate2's int8 results don't depend on the thread count,
        # so the transcripts are a local run's.
        count = max(1, min(workers or max(1, gpus or cpus), len(jobs)))
        on_gpu = gpus >= count
        actor_cpus, threads, parts, on_actor = 1, None if on_gpu else max(1, cpus // count), (None,), 0
    actor = ray.remote(num_cpus=actor_cpus, num_gpus=1 if on_gpu else 0, max_restarts=RETRIES, runtime_env=_RUNTIME)(_Worker)
    return _schedule(jobs, ws, ingest=ingest, events=events, parts=parts, on_actor=on_actor, count=count,
                     new_actor=lambda: actor.remote(str(ws.root), threads))


def _given_up(job, tries: int, exc: Exception):
    from . import Outcome

    cause = getattr(exc, "cause", None) or exc
    return Outcome(job, error=f"failed {tries} times on Ray: {type(cause).__name__}: {str(cause).splitlines()[0][:200] if str(cause) else ''}",
                   exit_code=ChaitimeError.exit_code)


# A split episode's parts, in order: stop_after for each (None: to the end). The transcription part
# runs in an actor holding the model, the others in CPU tasks. Unsplit, an episode is one part, in an actor.
SPLIT_PARTS = ("extract", "transcribe", None)


def _schedule(jobs, ws: Workspace, *, ingest, events, parts: tuple, on_actor: int, count: int, new_actor) -> list:
    """Every episode through ``parts`` in order: part ``on_actor`` in one of ``count`` long-lived
    actors, the others in Ray tasks on any CPU. At most ``count`` episodes wait ahead of the actors
    (bounded disk and memory). A part that fails in a way chaitime didn't expect (a dead worker)
    is run again, RETRIES times at most per episode; a dead actor is replaced. The same bytes as
    a local run either way: every part is ``pipeline.ingest``."""
    from dataclasses import replace

    from . import Outcome

    cpu_task = ray.remote(num_cpus=1, max_retries=0, runtime_env=_RUNTIME)(_cpu_part)
    free = deque(new_actor() for _ in range(count))
    waiting = deque(range(len(jobs)))  # not started
    ready: deque = deque()  # (index, retries so far) waiting for an actor
    running: dict = {}  # ref -> (index, part, retries so far, actor or None)
    outcomes: dict[int, Outcome] = {}

    def advance(index: int, part: int, retries: int, first: bool = False) -> None:
        if part == on_actor:
            (ready.appendleft if first else ready.append)((index, retries))
            return
        job = replace(jobs[index], options=replace(jobs[index].options, stop_after=parts[part]))
        running[cpu_task.remote(str(ws.root), ingest, job)] = (index, part, retries, None)

    def finish(index: int, outcome) -> None:
        outcomes[index] = outcome
        events("done", jobs[index], outcome)

    while waiting or ready or running:
        # An episode starts when an actor is free, or (its first part on a CPU) when fewer than
        # ``count`` are on their way to the actors.
        ahead = len(ready) + sum(1 for _, part, _, _ in running.values() if part < on_actor)
        while waiting and ahead < (count if on_actor else len(free)):
            index = waiting.popleft()
            events("start", jobs[index], None)
            advance(index, 0, 0)
            ahead += 1
        while ready and free:
            index, retries = ready.popleft()
            handle = free.popleft()
            job = replace(jobs[index], options=replace(jobs[index].options, stop_after=parts[on_actor]))
            running[handle.ingest.remote(ingest, job)] = (index, on_actor, retries, handle)
        done, _ = ray.wait(list(running), num_returns=1)
        index, part, retries, handle = running.pop(done[0])
        try:
            outcome = ray.get(done[0])
        except _RAY_FAILURES as exc:
            if handle is not None:  # a dead actor is replaced by a fresh one beside the restarting one
                free.append(new_actor() if isinstance(exc, ray_errors.RayActorError) else handle)
            if retries >= RETRIES:
                finish(index, _given_up(jobs[index], retries + 1, exc))
            else:
                advance(index, part, retries + 1, first=True)
            continue
        if handle is not None:
            free.append(handle)
        if not outcome.ok or part == len(parts) - 1:
            finish(index, Outcome(jobs[index], outcome.result, outcome.error, outcome.exit_code, 1 + retries))
        else:
            advance(index, part + 1, retries)
    return [outcomes[i] for i in range(len(jobs))]
