"""Many independent solves, in this process or on a Dask cluster, with the same answers either way.

Every what-if that runs many solves (sweep, tornado, compare; later simulate
and the break-even search) hands its work to an :class:`Executor`::

    with make_executor(workers=2) as ex:             # or scheduler="tcp://10.0.0.5:8786"; neither: in-process
        got = ex.run(task, payload, items, on_done=tick)
    got.complete, got.values, got.n_done

``on_done(n_finished, n_total)`` counts finished items (across workers);
``on_item(index, value)``, when given, receives each item's result in this
process as it comes back (in completion order: a caller that shows results
in item order holds them until the ones before have come).
``here_while_starting=False``: while a local cluster starts, wait for it
instead of solving the first chunks here (for a few long items, where one
chunk solved here would outlast the start-up and leave the workers idle).

``task(payload, chunk)`` is a picklable top-level function that yields (or
returns) one result per item of ``chunk``, in order. ``payload`` is what every
chunk shares (a scenario's raw data, its file name, the solver); on a cluster
it is sent to every worker once (``Client.scatter(..., broadcast=True)``),
not with every task. Items are cut into chunks of consecutive items
(:func:`chunk_size`); results come back in item order.

Same answers, whatever runs them:

- The tasks of sweep, tornado and compare solve every item with the worker
  process's Resolver (:func:`optimizer.analysis.sweep.point_plan`): one solver
  model per structure, updated with each point's numbers. The HiGHS backend
  clears its solver state on every update and holds exactly the data a fresh
  model would, so an item's answer is a function of the item alone: the serial
  run, two workers and twenty give the same bytes, whatever the chunking
  (tested against :func:`~optimizer.analysis.sweep.fresh_plan`, a Resolver that
  has solved nothing before). Before the core's rewrite this did not hold (117
  points of a 120-point LP budget sweep differed in the last bits between a
  reused and a fresh model), which is why the tests compare every float.
- Chunks (:func:`chunk_size`) depend on the number of items only. One chunk
  at a time runs in a worker process (a process-wide lock), so a worker
  started with several threads is safe too (HiGHS settings are
  process-wide). No wall-clock limit is added here.
- Every worker must run the same chipalloc, HiGHS and PuLP versions
  (:func:`worker_versions`, checked when the executor connects).

A local cluster (``workers=N``) starts in a background thread; until it is
up, ``run()`` solves chunks from the front in this process, so the start-up
costs little time. Its worker processes are forked from one ``forkserver``
process that imports chipalloc and its libraries once (where the platform
has one; elsewhere they are spawned and import everything each), started
the moment the executor is made so that its imports run beside Dask's own
start-up: on two cores, spawned workers importing all that at once with
this process solving cost about a second and a half of a 4-second sweep
(``--workers 2`` took 0.90-0.95x the serial time on
``benchmarks/bench_executor.py``, 0.79x forked). The forkserver imports
modules and runs no solver or thread, so forking it is safe. Worker
processes ignore Ctrl-C (:func:`dask_setup`, a Dask preload hook).

Interruption: a ``KeyboardInterrupt`` (Ctrl-C, or raised by ``on_done``)
cancels the outstanding tasks, keeps the items already finished and returns
a partial :class:`RunResult` (``complete`` is False); the caller decides what
to write. A chunk already running on a worker finishes there in the background
and is thrown away. Any other error (a task's own, unpickled with its message:
see :mod:`optimizer.errors`) cancels the rest and is raised.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from ..errors import ChipallocError, InputError

MAX_CHUNK = 8  # consecutive items per task, at most
CHUNKS_WANTED = 32  # below MAX_CHUNK x this many items, smaller chunks, so that every worker gets work
CONNECT_TIMEOUT = 10.0  # seconds to reach a --scheduler before giving up (exit 2)
WORKER_WAIT = 30.0  # seconds to wait for a scheduler's first worker
MAX_WORKERS = 256  # --workers above this is surely a typo
# imported once by the forkserver that local workers are forked from (what every task needs)
FORKSERVER_PRELOAD = ("distributed", "numpy", "scipy.sparse", "pandas", "pydantic", "highspy", "pulp",
                      "optimizer.analysis.sweep", "optimizer.analysis.tornado", "optimizer.analysis.compare",
                      "optimizer.analysis.breakeven", "optimizer.analysis.simulate")

Task = Callable[[Any, list], Iterable[Any]]
OnDone = Callable[[int, int], None]
OnItem = Callable[[int, Any], None]


def chunk_size(n: int) -> int:
    """Items per chunk for ``n`` items: ``n // 32`` clipped to 1..8. Depends on ``n`` only."""
    return max(1, min(MAX_CHUNK, n // CHUNKS_WANTED))


def chunk_bounds(n: int, size: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) of each chunk of ``n`` items, in order."""
    size = chunk_size(n) if size is None else int(size)
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [(i, min(n, i + size)) for i in range(0, n, size)]


@dataclass
class RunResult:
    """What a run finished: one slot per item, in item order."""

    total: int
    values: list[Any]  # the result of each item (None where not finished)
    finished: list[bool]
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return all(self.finished)

    @property
    def n_done(self) -> int:
        return sum(self.finished)

    def done(self) -> list[tuple[int, Any]]:
        """(item index, result) of every finished item, in item order."""
        return [(i, v) for i, (v, ok) in enumerate(zip(self.values, self.finished)) if ok]


def _new_result(n: int) -> RunResult:
    return RunResult(n, [None] * n, [False] * n)


class Executor:
    """Runs ``task`` over chunks of ``items``; see the module doc. Use as a context manager."""

    workers: int = 1
    description: str = "in-process"

    def run(self, task: Task, payload: Any, items: Sequence[Any], chunk_size: int | None = None,
            on_done: OnDone | None = None, on_item: OnItem | None = None,
            here_while_starting: bool = True) -> RunResult:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _solve_here(task: Task, payload: Any, items: list, lo: int, hi: int, out: RunResult, n_done: int,
                on_done: OnDone | None, on_item: OnItem | None = None) -> int:
    """Items lo..hi-1 as one chunk in this process, each recorded (on_item, then on_done called) as it finishes."""
    for k, value in enumerate(task(payload, items[lo:hi])):
        if lo + k >= hi:
            raise RuntimeError(f"{_name(task)} gave more results than items")
        out.values[lo + k], out.finished[lo + k] = value, True
        n_done += 1
        if on_item is not None:
            on_item(lo + k, value)
        if on_done is not None:
            on_done(n_done, out.total)
    if not all(out.finished[lo:hi]):
        raise RuntimeError(f"{_name(task)} gave fewer results than items")
    return n_done


class SerialExecutor(Executor):
    """Everything in this process, chunk after chunk (the default: no start-up cost).

    ``on_item`` and ``on_done`` are called after every item; a KeyboardInterrupt keeps every item finished
    before it.
    """

    def run(self, task: Task, payload: Any, items: Sequence[Any], chunk_size: int | None = None,
            on_done: OnDone | None = None, on_item: OnItem | None = None,
            here_while_starting: bool = True) -> RunResult:
        items = list(items)
        out = _new_result(len(items))
        n_done = 0
        try:
            for lo, hi in chunk_bounds(len(items), chunk_size):
                n_done = _solve_here(task, payload, items, lo, hi, out, n_done, on_done, on_item)
        except KeyboardInterrupt:
            out.interrupted = True
        return out


# --------------------------------------------------------------------------- Dask

_CHUNK_LOCK = threading.Lock()  # one chunk at a time per worker process


def run_chunk(task: Task, payload: Any, chunk: list) -> list:
    """What a Dask worker runs for one chunk (top level, so it pickles by reference)."""
    with _CHUNK_LOCK:
        got = list(task(payload, chunk))
    if len(got) != len(chunk):
        raise RuntimeError(f"{_name(task)} gave {len(got)} results for {len(chunk)} items")
    return got


def worker_versions() -> dict[str, str]:
    """The versions that decide an answer, as a worker sees them (checked against this process's)."""
    import pulp

    from .. import __version__
    from ..solve import solver_version

    return {"chipalloc": __version__, "HiGHS": solver_version("highs"), "PuLP": pulp.__version__}


def _name(task: Any) -> str:
    return getattr(task, "__qualname__", repr(task))


def dask_setup(worker: Any) -> None:
    """Dask preload hook, run in each worker process that ``--workers`` starts (``preload=[this module]``).

    Ctrl-C in a terminal reaches the whole process group; the worker processes ignore it, so only this
    process acts on it (cancels what is queued and keeps what finished) and a worker is not killed with
    results on it. Preloading also imports chipalloc while the cluster starts, not in the first task.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_forkserver() -> str:
    """How local worker processes start: forked from a forkserver that imports chipalloc once
    (:data:`FORKSERVER_PRELOAD`), or spawned where the platform has no forkserver (Windows).

    The forkserver is started here, at once (in this thread, before Dask is imported), so that its imports run
    beside Dask's own start-up; a running forkserver keeps its preload list (Dask sets its own later, unused).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["dask", "msgpack", "cloudpickle", "tornado", "toolz", *FORKSERVER_PRELOAD])
    forkserver.ensure_running()
    return "forkserver"


def _quiet_logs() -> None:
    """Dask's own log lines (worker start and stop, cancelled tasks) are not for a planner's terminal."""
    for name in ("distributed", "distributed.client", "distributed.scheduler", "distributed.worker",
                 "distributed.nanny", "distributed.core", "distributed.comm", "distributed.deploy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class DaskExecutor(Executor):
    """Chunks as tasks on a ``dask.distributed`` cluster: a local one of ``workers`` processes, or ``scheduler``'s."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 connect_timeout: float | None = None):
        _quiet_logs()
        self.cluster = None
        self.client = None
        self._starting: threading.Thread | None = None  # a local cluster being started in the background
        self._start_error: BaseException | None = None
        timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        try:
            if scheduler is not None:
                from distributed import Client

                address = check_address(scheduler)
                _probe(address, timeout)
                self.client = Client(address, timeout=timeout, set_as_default=False)
                self.description = f"the Dask scheduler at {address}"
                self._wait_for_workers(address)
                self.workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
                self.description += f" ({self.workers} worker{'s' if self.workers != 1 else ''})"
                self._check_versions()
            else:
                # started in the background (about a second: two Python processes, Dask and chipalloc imported);
                # run() solves chunks in this process meanwhile, so the start-up costs no time
                self.workers = int(workers)
                self.description = f"a local Dask cluster of {workers} processes"
                self._method = _start_forkserver()
                self._starting = threading.Thread(target=self._start_local, args=(int(workers),),
                                                  name="chipalloc-dask-start", daemon=True)
                self._starting.start()
        except BaseException:
            self.close()
            raise

    def _start_local(self, workers: int) -> None:
        import dask
        from distributed import Client, LocalCluster

        try:
            with warnings.catch_warnings(), dask.config.set({"distributed.worker.multiprocessing-method": self._method}):
                warnings.simplefilter("ignore")  # e.g. a busy port, chosen again by Dask: not the planner's concern
                self.cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", worker_dashboard_address=None, silence_logs=logging.CRITICAL,
                    preload=[__name__],
                )
            self.client = Client(self.cluster, set_as_default=False)
            _quiet_logs()  # LocalCluster sets its own levels
            self._check_versions()
        except BaseException as e:  # noqa: BLE001 - raised in the caller's thread by _ready()
            self._start_error = e

    @property
    def starting(self) -> bool:
        return self._starting is not None and self._starting.is_alive()

    def _ready(self) -> None:
        """Wait for a local cluster being started; raise what stopped it."""
        if self._starting is None:
            return
        self._starting.join()
        self._starting = None
        e = self._start_error
        if e is not None:
            if isinstance(e, ChipallocError):
                raise e
            raise ChipallocError(f"could not start {self.description}: {_why(e)}; run without --workers") from e

    def _wait_for_workers(self, address: str) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise InputError(
                f"--scheduler {address}: the scheduler has no workers (waited {WORKER_WAIT:g} s); start some with "
                f"`dask worker {address} --nthreads 1`"
            ) from None

    def _check_versions(self, here: dict[str, str] | None = None) -> None:
        """Every worker must run the versions this process runs (``here``), or the answers could differ."""
        here = worker_versions() if here is None else here
        got = self.client.run(worker_versions, on_error="return")
        for addr, v in sorted(got.items()):
            if isinstance(v, BaseException):
                raise InputError(
                    f"{self.description}: worker {addr} cannot run chipalloc ({type(v).__name__}: {v}); install the "
                    "same chipalloc (and its dependencies) on every worker"
                )
            if v != here:
                diff = ", ".join(f"{k} {v.get(k)} (here {here[k]})" for k in here if v.get(k) != here[k])
                raise InputError(
                    f"{self.description}: worker {addr} runs {diff}; every worker needs the same versions, or the "
                    "answers could differ"
                )

    def run(self, task: Task, payload: Any, items: Sequence[Any], chunk_size: int | None = None,
            on_done: OnDone | None = None, on_item: OnItem | None = None,
            here_while_starting: bool = True) -> RunResult:
        from distributed import as_completed

        items = list(items)
        out = _new_result(len(items))
        if not items:
            return out
        bounds = chunk_bounds(len(items), chunk_size)
        futures: list = []
        where: dict = {}
        n_done = 0
        try:
            # while a local cluster starts, this process solves chunks from the front (the same task, so the
            # same answers); the cluster takes the rest
            while bounds and here_while_starting and self.starting:
                lo, hi = bounds.pop(0)
                n_done = _solve_here(task, payload, items, lo, hi, out, n_done, on_done, on_item)
            if not bounds:
                return out
            self._ready()
            client = self.client
            # a key of its own (hash=False): a payload equal to the last run's must not share a key that is being released
            [shared] = client.scatter([payload], broadcast=True, hash=False)
            for lo, hi in bounds:
                f = client.submit(run_chunk, task, shared, items[lo:hi], pure=False, retries=0)
                where[f.key] = (lo, hi)
                futures.append(f)
            for f in as_completed(futures, loop=client.loop):
                lo, hi = where[f.key]
                got = f.result()  # a task's error is raised here, with its own message
                out.values[lo:hi] = got
                out.finished[lo:hi] = [True] * (hi - lo)
                n_done += hi - lo
                if on_item is not None:
                    for k, value in enumerate(got):
                        on_item(lo + k, value)
                if on_done is not None:
                    on_done(n_done, out.total)
        except KeyboardInterrupt:
            out.interrupted = True
            self._keep_finished(futures, where, out)
            self._cancel(futures)
        except BaseException as e:
            self._cancel(futures)
            if _lost_cluster(e):
                raise ChipallocError(
                    f"{self.description} failed while solving: {_why(e)}; {out.n_done:,} of {out.total:,} solves "
                    "had finished; nothing was written. Check the scheduler and its workers, or run without "
                    "--scheduler/--workers"
                ) from e
            raise
        return out

    @staticmethod
    def _keep_finished(futures: list, where: dict, out: RunResult) -> None:
        """Chunks that finished while the interrupt came in are kept too (no waiting for the others)."""
        for f in futures:
            lo, hi = where[f.key]
            if out.finished[lo] or f.status != "finished":
                continue
            try:
                got = f.result(timeout=1)
            except BaseException:  # noqa: BLE001 - interrupted: keep what comes back cleanly, drop the rest
                continue
            out.values[lo:hi] = got
            out.finished[lo:hi] = [True] * (hi - lo)

    def _cancel(self, futures: list) -> None:
        if futures and self.client is not None:
            with contextlib.suppress(BaseException):
                self.client.cancel(futures, force=True)

    def close(self) -> None:
        if self._starting is not None:  # let a start in progress finish, then close what it started
            self._starting.join()
            self._starting = None
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
            self.cluster = None


def _lost_cluster(e: BaseException) -> bool:
    """The cluster failed (not a task): a worker killed over and over, the scheduler gone, a dropped connection."""
    import asyncio
    import concurrent.futures

    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    cancelled = (asyncio.CancelledError, concurrent.futures.CancelledError)  # e.g. "scheduler-connection-lost"
    return isinstance(e, (KilledWorker, CommClosedError, *cancelled)) or (
        isinstance(e, (OSError, TimeoutError)) and not isinstance(e, ChipallocError)
    )


def _why(e: BaseException) -> str:
    import concurrent.futures

    if isinstance(e, concurrent.futures.CancelledError):
        return "the connection to the scheduler was lost"
    return " ".join(str(e).split()) or type(e).__name__


def check_address(address: str) -> str:
    """A ``--scheduler`` address as Dask writes it (``tcp://HOST:PORT``); InputError when it cannot be one."""
    from distributed.comm.addressing import parse_address, parse_host_port

    text = address.strip()
    example = "e.g. --scheduler tcp://10.0.0.5:8786 (the address `dask scheduler` prints)"
    if not text:
        raise InputError(f"--scheduler: empty address; {example}")
    if "://" not in text:
        text = "tcp://" + text
    scheme = text.split("://", 1)[0]
    if scheme not in ("tcp", "tls"):
        raise InputError(f"--scheduler {address}: unknown scheme {scheme!r}; use tcp:// or tls://, {example}")
    try:
        _, loc = parse_address(text, strict=True)
        host, port = parse_host_port(loc)
    except (ValueError, TypeError) as e:
        raise InputError(f"--scheduler {address}: not an address ({e}); {example}") from None
    if not host or not isinstance(port, int) or not 0 < port < 65536:
        raise InputError(f"--scheduler {address}: not an address (host and a port 1-65535 needed); {example}")
    return text


def _probe(address: str, timeout: float) -> None:
    """Reach the scheduler once (bounded by ``timeout``) before a Client is made, so a wrong address is a
    clear exit 2 rather than a Client that fails and times out again while it is collected."""
    import asyncio

    from distributed.comm import connect

    async def reach() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    try:
        asyncio.run(reach())
    except (OSError, TimeoutError) as e:
        raise InputError(
            f"--scheduler {address}: cannot reach a Dask scheduler there ({e}); check the address and that "
            "`dask scheduler` is running and reachable from here"
        ) from None


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers N`` / ``--scheduler ADDRESS``; neither: in-process. Raises InputError (exit 2)."""
    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler do not go together: --workers starts a local cluster, "
                         "--scheduler uses an existing one; give one of them")
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"--workers {workers}: must be a whole number of processes, at least 1 "
                             "(leave it out to solve in this process)")
        if workers > MAX_WORKERS:
            raise InputError(f"--workers {workers}: at most {MAX_WORKERS} local processes")
        return DaskExecutor(workers=workers)
    if scheduler is not None:
        return DaskExecutor(scheduler=scheduler)
    return SerialExecutor()


@dataclass
class Progress:
    """Counts finished items for a progress bar that wants increments (``update(k)``)."""

    update: Callable[[int], None]
    seen: int = field(default=0)

    def __call__(self, n_done: int, n_total: int) -> None:
        if n_done > self.seen:
            self.update(n_done - self.seen)
            self.seen = n_done


__all__ = [
    "Executor", "SerialExecutor", "DaskExecutor", "RunResult", "make_executor", "run_chunk", "chunk_size",
    "chunk_bounds", "check_address", "Progress",
]
