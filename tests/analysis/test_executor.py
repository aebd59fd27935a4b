"""Executors: chunks, order, progress, interruption and errors, in-process and on a two-process Dask cluster."""
from __future__ import annotations

import socket
import sys
import time

import cloudpickle
import pytest

from optimizer.analysis import executor as ex_mod
from optimizer.analysis.executor import (
    DaskExecutor, SerialExecutor, check_address, chunk_bounds, chunk_size, make_executor,
)
from optimizer.errors import InputError, Problem, VerificationError

# the toy tasks below run on Dask workers, which cannot import this test module by name
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def scaled(payload, chunk):
    """payload x item, one result per item (a generator, as the real tasks are)."""
    for x in chunk:
        yield payload * x


def slow_scaled(payload, chunk):
    for x in chunk:
        time.sleep(0.05)
        yield payload * x


def one_short(payload, chunk):
    return [payload * x for x in chunk][:-1]


def fails_on(payload, chunk):
    for x in chunk:
        if x == payload["bad"]:
            raise payload["error"]
        yield x


class Stop:
    """on_done that records its calls and raises KeyboardInterrupt (Ctrl-C) once ``after`` items are done."""

    def __init__(self, after: int | None = None):
        self.after = after
        self.calls: list[tuple[int, int]] = []

    def __call__(self, n: int, total: int) -> None:
        self.calls.append((n, total))
        if self.after is not None and n >= self.after:
            raise KeyboardInterrupt


# --------------------------------------------------------------------------- chunks


@pytest.mark.parametrize("n, size", [(0, 1), (1, 1), (31, 1), (63, 1), (64, 2), (100, 3), (255, 7), (256, 8), (5000, 8)])
def test_chunk_size_depends_on_the_number_of_items_only(n, size):
    assert chunk_size(n) == size


def test_chunk_bounds_cover_every_item_once_in_order():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(0) == []
    bounds = chunk_bounds(1000)
    assert bounds[0] == (0, 8) and bounds[-1] == (992, 1000) and len(bounds) == 125
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    with pytest.raises(ValueError):
        chunk_bounds(5, 0)


# --------------------------------------------------------------------------- in-process


def test_serial_results_in_item_order_with_progress_per_item():
    stop = Stop()
    got = SerialExecutor().run(scaled, 3, list(range(7)), chunk_size=3, on_done=stop)
    assert got.values == [0, 3, 6, 9, 12, 15, 18]
    assert got.complete and not got.interrupted and got.n_done == 7
    assert stop.calls == [(k, 7) for k in range(1, 8)]


@pytest.mark.parametrize("size", [None, 1, 2, 4])
def test_serial_interrupt_keeps_the_items_finished_before_it(size):
    got = SerialExecutor().run(scaled, 2, list(range(10)), chunk_size=size, on_done=Stop(after=5))
    assert got.interrupted and not got.complete
    assert got.n_done == 5 and got.done() == [(i, 2 * i) for i in range(5)]
    assert got.finished == [True] * 5 + [False] * 5


class Seen:
    """on_item and on_done together: which items were handed over, and the count when each was."""

    def __init__(self):
        self.items: list[tuple[int, object, int]] = []
        self.n = 0

    def item(self, i, value):
        self.items.append((i, value, self.n))

    def done(self, n, total):
        self.n = n


def test_serial_on_item_gets_each_result_in_order_before_its_progress():
    seen = Seen()
    got = SerialExecutor().run(scaled, 3, list(range(7)), chunk_size=3, on_done=seen.done, on_item=seen.item)
    assert got.complete
    assert seen.items == [(i, 3 * i, i) for i in range(7)]  # item i handed over when i items were counted


def test_serial_task_with_too_few_results_is_a_bug():
    with pytest.raises(RuntimeError, match="fewer results than items"):
        SerialExecutor().run(one_short, 1, [1, 2, 3], chunk_size=3)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    "workers, scheduler, message",
    [
        (2, "tcp://127.0.0.1:8786", "--workers and --scheduler do not go together"),
        (0, None, "--workers 0: must be a whole number of processes, at least 1"),
        (-3, None, "--workers -3: must be a whole number"),
        (100_000, None, "at most 256"),
        (None, "http://127.0.0.1:8786", "unknown scheme 'http'"),
        (None, "garbage", "not an address"),
        (None, "", "empty address"),
        (None, "tcp://127.0.0.1:99999", "port 1-65535"),
    ],
)
def test_bad_options_are_input_errors(workers, scheduler, message):
    with pytest.raises(InputError) as e:
        make_executor(workers, scheduler)
    assert message in str(e.value) and e.value.exit_code == 2


def test_no_options_mean_in_process():
    with make_executor() as ex:
        assert isinstance(ex, SerialExecutor) and ex.description == "in-process"


@pytest.mark.parametrize(
    "text, address",
    [("10.0.0.5:8786", "tcp://10.0.0.5:8786"), ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
     (" tls://sched.example:8786 ", "tls://sched.example:8786")],
)
def test_scheduler_addresses_are_written_as_dask_writes_them(text, address):
    assert check_address(text) == address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_input_error_within_the_timeout(monkeypatch):
    monkeypatch.setattr(ex_mod, "CONNECT_TIMEOUT", 1.0)
    addr = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    t = time.monotonic()
    with pytest.raises(InputError) as e:
        make_executor(scheduler=addr)
    assert time.monotonic() - t < 10
    assert f"--scheduler {addr}: cannot reach a Dask scheduler there" in str(e.value)
    assert "dask scheduler" in str(e.value)


def test_scheduler_without_workers_is_an_input_error(monkeypatch):
    import logging

    from distributed import LocalCluster

    monkeypatch.setattr(ex_mod, "WORKER_WAIT", 0.5)
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.CRITICAL) as empty:
        with pytest.raises(InputError) as e:
            make_executor(scheduler=empty.scheduler_address)
    assert "the scheduler has no workers" in str(e.value)
    assert f"dask worker {empty.scheduler_address} --nthreads 1" in str(e.value)


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_ex(dask_cluster):
    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        yield ex


def test_dask_executor_sees_both_workers(dask_ex, dask_cluster):
    assert dask_ex.workers == 2
    assert dask_ex.description == f"the Dask scheduler at {dask_cluster.scheduler_address} (2 workers)"


@pytest.mark.parametrize("size", [None, 1, 3, 50])
def test_dask_results_equal_serial_in_item_order(dask_ex, size):
    items = list(range(50))
    stop = Stop()
    got = dask_ex.run(scaled, 7, items, chunk_size=size, on_done=stop)
    assert got.complete and got.values == SerialExecutor().run(scaled, 7, items, chunk_size=size).values
    done = [n for n, _ in stop.calls]
    assert done == sorted(done) and done[-1] == 50 and all(t == 50 for _, t in stop.calls)
    assert len(done) == len(chunk_bounds(50, size))  # progress counts items, one call per finished chunk


@pytest.mark.parametrize("size", [1, 3])
def test_dask_on_item_gets_every_result_once_with_its_index(dask_ex, size):
    seen = Seen()
    got = dask_ex.run(slow_scaled, 5, list(range(12)), chunk_size=size, on_done=seen.done, on_item=seen.item)
    assert got.complete
    assert sorted((i, v) for i, v, _ in seen.items) == [(i, 5 * i) for i in range(12)]
    # a chunk's items are handed over together (in completion order), before the count that includes them
    assert [n for _, _, n in seen.items] == [size * (k // size) for k in range(12)]


def test_dask_interrupt_keeps_finished_chunks_and_cancels_the_rest(dask_ex):
    items = list(range(40))  # 40 chunks of one item, 50 ms each: about a second of work on two workers
    got = dask_ex.run(slow_scaled, 2, items, chunk_size=1, on_done=Stop(after=3))
    assert got.interrupted and not got.complete
    assert 3 <= got.n_done < 40
    assert all(v == 2 * i for i, v in got.done())
    # nothing is left queued on the cluster (a running chunk may still finish in the background)
    deadline = time.monotonic() + 10
    while dask_ex.client.processing() and any(dask_ex.client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(dask_ex.client.processing().values())
    # and the executor is usable again
    assert dask_ex.run(scaled, 1, [1, 2, 3]).values == [1, 2, 3]


@pytest.mark.parametrize(
    "error",
    [
        InputError([Problem("must be greater than 0", path="chips.h20.unit_price", line=7, hint="a price")],
                   file="s.yaml"),
        VerificationError(["budget[cn]: 41e9 > 40e9", "units[cn,h20]: -1 < 0"]),
    ],
)
def test_errors_on_workers_come_back_with_the_same_message(dask_ex, error):
    with pytest.raises(type(error)) as e:
        dask_ex.run(fails_on, {"bad": 13, "error": error}, list(range(20)), chunk_size=4)
    assert e.value.render() == error.render()
    assert e.value.exit_code == error.exit_code
    assert e.value.__dict__ == error.__dict__


def test_a_worker_with_other_versions_is_refused(dask_ex):
    here = dict(ex_mod.worker_versions(), chipalloc="0.0.1")
    with pytest.raises(InputError) as e:
        dask_ex._check_versions(here=here)
    assert "runs chipalloc 0.1.0 (here 0.0.1)" in str(e.value) and "same versions" in str(e.value)
    dask_ex._check_versions()  # the real versions match


def test_a_scheduler_lost_while_solving_is_a_clear_error_not_a_bug():
    import logging

    from distributed import LocalCluster

    from optimizer.errors import ChipallocError

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
    try:
        with DaskExecutor(scheduler=cluster.scheduler_address) as ex:
            def lose_the_scheduler(n, total):
                cluster.close()  # after the first chunk: the scheduler and its worker go away

            with pytest.raises(ChipallocError) as e:
                ex.run(slow_scaled, 1, list(range(40)), chunk_size=1, on_done=lose_the_scheduler)
    finally:
        cluster.close()
    assert type(e.value) is ChipallocError and e.value.exit_code == 1
    assert f"the Dask scheduler at {cluster.scheduler_address} (1 worker) failed while solving" in str(e.value)
    assert "nothing was written" in str(e.value) and "of 40 solves had finished" in str(e.value)


def where_solved(payload, chunk):
    """(item x payload, the process that solved it)."""
    import os

    for x in chunk:
        time.sleep(0.1)
        yield payload * x, os.getpid()


def test_a_local_cluster_starts_in_the_background_while_this_process_solves():
    import os

    items = list(range(30))
    stop = Stop()
    with make_executor(workers=2) as ex:
        assert ex.description == "a local Dask cluster of 2 processes" and ex.workers == 2
        got = ex.run(where_solved, 3, items, chunk_size=1, on_done=stop)
        assert ex.client is not None and len(ex.client.scheduler_info(n_workers=-1)["workers"]) == 2
        worker_pids = set(ex.client.run(os.getpid).values())
    assert got.complete and [v for v, _ in got.values] == [3 * x for x in items]
    pids = [pid for _, pid in got.values]
    here = [i for i, pid in enumerate(pids) if pid == os.getpid()]
    # the first items were solved here while the cluster started (about a second: several items of 0.1 s),
    # the rest by the two workers
    assert here and here == list(range(len(here))) and len(here) < 30
    assert set(pids[len(here):]) <= worker_pids
    assert [n for n, _ in stop.calls] == sorted(n for n, _ in stop.calls) and stop.calls[-1] == (30, 30)


@pytest.mark.slow
def test_a_run_may_wait_for_a_starting_local_cluster_instead():
    import os

    with make_executor(workers=2) as ex:
        assert ex.starting  # just made: the cluster starts in the background
        got = ex.run(where_solved, 3, list(range(6)), chunk_size=1, here_while_starting=False)
        worker_pids = set(ex.client.run(os.getpid).values())
    assert got.complete and [v for v, _ in got.values] == [3 * x for x in range(6)]
    assert {pid for _, pid in got.values} <= worker_pids and os.getpid() not in worker_pids


def test_workers_started_by_the_executor_ignore_ctrl_c():
    import os

    with make_executor(workers=1) as ex:
        ex._ready()
        masks = ex.client.run(lambda: open(f"/proc/{os.getpid()}/status").read())
    for status in masks.values():
        ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
        assert ignored & (1 << (2 - 1)), "SIGINT is not ignored in the worker"  # bit of signal 2


def _worker_facts():
    import multiprocessing
    import os
    import sys

    return os.getppid(), multiprocessing.parent_process() is None, "optimizer.analysis.sweep" in sys.modules


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(), reason="no forkserver")
def test_local_workers_are_forked_from_a_forkserver_that_imported_chipalloc():
    import multiprocessing.forkserver as fs
    import os

    with make_executor(workers=2) as ex:
        ex._ready()
        facts = list(ex.client.run(_worker_facts).values())
    server = fs._forkserver._forkserver_pid
    assert server is not None and server != os.getpid()
    # both workers are children of the forkserver (not spawned by this process) and found chipalloc imported
    assert [(ppid, imported) for ppid, _, imported in facts] == [(server, True), (server, True)]
    assert "optimizer.analysis.sweep" in fs._forkserver._preload_modules
