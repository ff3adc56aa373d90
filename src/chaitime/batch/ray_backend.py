"""The Ray backend: the same ``pipeline.ingest`` in long-lived Ray actors (the one module that
imports ray). Each actor holds its Whisper model for every episode it is given (the engine's
per-process cache), asks for a GPU where the cluster has them, and works on the workspace by its
path, so every node must see the workspace at the same path (a shared filesystem: docs/scale.md).

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


def run(jobs, ws: Workspace, *, workers: int | None, address: str | None, ingest, events) -> list:
    from . import Outcome

    connect(address)
    resources = ray.available_resources()
    gpus = int(ray.cluster_resources().get("GPU", 0))
    # One actor per GPU; on CPU-only clusters one per CPU, each decoding with one thread (as the
    # local batch's lanes: on 2 cores, two one-thread decodes side by side beat one two-thread
    # decode after another by 1.3x). CTranslate2's int8 results don't depend on the thread count,
    # so the transcripts are a local run's.
    cpus = int(resources.get("CPU", 1))
    count = workers or max(1, gpus or cpus)
    count = max(1, min(count, len(jobs)))
    threads = None if gpus >= count else max(1, cpus // count)
    # Ray pins its workers to one BLAS thread (OMP_NUM_THREADS=1); the other stages get what a local run has.
    env = {name: str(os.cpu_count() or 1) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    actor = ray.remote(num_cpus=1, num_gpus=1 if gpus >= count else 0, max_restarts=RETRIES,
                       runtime_env={"env_vars": env})(_Worker)
    free = deque(actor.remote(str(ws.root), threads) for _ in range(count))
    queue = deque((i, 1) for i in range(len(jobs)))
    running: dict = {}
    outcomes: dict[int, Outcome] = {}
    while queue or running:
        while queue and free:
            index, tries = queue.popleft()
            handle = free.popleft()
            if tries == 1:
                events("start", jobs[index], None)
            running[handle.ingest.remote(ingest, jobs[index])] = (index, tries, handle)
        done, _ = ray.wait(list(running), num_returns=1)
        index, tries, handle = running.pop(done[0])
        try:
            outcome = ray.get(done[0])
        except (ray_errors.RayActorError, ray_errors.RayTaskError, ray_errors.WorkerCrashedError) as exc:
            if isinstance(exc, ray_errors.RayActorError):
                handle = actor.remote(str(ws.root), threads)  # a fresh one beside the restarting one
            if tries <= RETRIES:
                queue.appendleft((index, tries + 1))
                free.append(handle)
                continue
            cause = getattr(exc, "cause", None) or exc
            outcome = Outcome(jobs[index], error=f"failed {tries} times on Ray: {type(cause).__name__}: {str(cause).splitlines()[0][:200] if str(cause) else ''}",
                              exit_code=ChaitimeError.exit_code)
        else:
            outcome = Outcome(outcome.job, outcome.result, outcome.error, outcome.exit_code, tries)
        free.append(handle)
        outcomes[index] = outcome
        events("done", outcome.job, outcome)
    return [outcomes[i] for i in range(len(jobs))]
