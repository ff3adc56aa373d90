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

    def __init__(self, root: str) -> None:
        self.ws = Workspace.open(Path(root))

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
    # One actor per GPU; on CPU-only clusters one per two CPUs, as locally (a decode uses every
    # core of its node; on 2 cores one per CPU measured 1.82x faster-whisper alone).
    count = workers or max(1, gpus or int(resources.get("CPU", 1)) // 2)
    count = max(1, min(count, len(jobs)))
    # Ray pins its workers to one thread (OMP_NUM_THREADS=1); decoding with another thread count
    # sums in another order, and the words' probabilities and times come out slightly different
    # from a local run. Workers get the threads a local run uses, so the transcripts match.
    threads = {name: str(os.cpu_count() or 1) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    actor = ray.remote(num_cpus=1, num_gpus=1 if gpus >= count else 0, max_restarts=RETRIES,
                       runtime_env={"env_vars": threads})(_Worker)
    free = deque(actor.remote(str(ws.root)) for _ in range(count))
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
                handle = actor.remote(str(ws.root))  # a fresh one beside the restarting one
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
