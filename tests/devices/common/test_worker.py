"""`Worker` and `Backoff` on real threads: start once, stop wakes the loop, health once per change."""

from __future__ import annotations

import logging
import queue
import socket
import threading

import pytest

from devices.common.health import Health
from devices.common.worker import Backoff, HealthCallback, Worker

NOT_STARTED = Health("absent", "not started")


class Sleeper(Worker):
    """Sleeps far longer than any test waits: only `stop()` can end it in time."""

    def __init__(self) -> None:
        super().__init__("test-sleeper", None, health=NOT_STARTED, label=("测试", "Test"))
        self.started = threading.Event()
        self.finished = threading.Event()

    def _run(self) -> None:
        self.started.set()
        while not self.stopping:
            self._sleep(3600)

    def _finished(self) -> None:
        self.finished.set()


class Scripted(Worker):
    """Reports the health values it is given, one at a time, from its own thread."""

    def __init__(self, on_health: HealthCallback) -> None:
        super().__init__("test-scripted", on_health, health=NOT_STARTED, label=("测试", "Test"))
        self.todo: queue.Queue[Health | Exception | None] = queue.Queue()

    def _interrupt(self) -> None:
        self.todo.put(None)  # wakes the blocked get()

    def _run(self) -> None:
        while not self.stopping:
            item = self.todo.get()
            if item is None:
                continue
            if isinstance(item, Exception):
                raise item
            self._set_health(item)


class Recorder:
    """Collects health reports from the worker thread; `wait_for(n)` blocks until n arrived."""

    def __init__(self) -> None:
        self.seen: list[Health] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, health: Health) -> None:
        with self._cond:
            self.seen.append(health)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.seen) >= n, timeout)


def test_stop_wakes_a_sleeping_loop_and_runs_the_cleanup() -> None:
    worker = Sleeper().start()
    assert worker.started.wait(10)
    assert worker.running and not worker.stopping
    worker.stop(timeout=10)
    # The loop sleeps an hour per turn: it can only have ended because stop() woke it.
    assert not worker.running
    assert worker.finished.is_set()
    assert worker.stopping


def test_a_worker_starts_only_once_and_works_as_a_context_manager() -> None:
    with Sleeper() as worker:
        assert worker.started.wait(10)
        with pytest.raises(RuntimeError):
            worker.start()
    assert not worker.running


def test_stop_before_start_is_harmless() -> None:
    worker = Sleeper()
    worker.stop()
    assert not worker.running and not worker.finished.is_set()


def test_interrupt_breaks_a_blocking_call() -> None:
    class Listener(Worker):
        def __init__(self) -> None:
            super().__init__("test-listener", None, health=NOT_STARTED, label=("测试", "Test"))
            self.ours, self.theirs = socket.socketpair()
            self.started = threading.Event()

        def _interrupt(self) -> None:
            self.theirs.send(b"x")  # what an interrupt does for a real blocking read

        def _run(self) -> None:
            self.started.set()
            while not self.stopping:
                self.ours.recv(1)  # blocks without any timeout

    worker = Listener().start()
    try:
        assert worker.started.wait(10)
        worker.stop(timeout=10)
        assert not worker.running
    finally:
        worker.ours.close()
        worker.theirs.close()


def test_each_health_change_is_reported_once_on_the_worker_thread() -> None:
    rec = Recorder()
    worker = Scripted(rec).start()
    try:
        ok, lost = Health("ok", "COM1"), Health("error", "lost")
        for item in (ok, ok, ok, lost, lost, ok):
            worker.todo.put(item)
        assert rec.wait_for(3)
        # The repeated values were dropped: the three reports are the three changes, in order.
        assert rec.seen == [ok, lost, ok]
        assert worker.health == ok
        assert rec.threads == {"test-scripted"}
    finally:
        worker.stop()


def test_a_failing_callback_is_logged_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder()

    def on_health(health: Health) -> None:
        rec(health)
        if health.state == "error":
            raise ValueError("bug in the kiosk")

    worker = Scripted(on_health).start()
    try:
        with caplog.at_level(logging.ERROR, logger="devices.common.worker"):
            worker.todo.put(Health("error", "first"))
            worker.todo.put(Health("ok", "marker"))
            # The marker after the failing callback proves the thread survived it.
            assert rec.wait_for(2)
        assert rec.seen[-1] == Health("ok", "marker")
        assert worker.running
        assert any("callback" in r.getMessage() and r.exc_info for r in caplog.records)
    finally:
        worker.stop()


def test_a_bug_in_the_loop_becomes_error_health_not_a_silent_death() -> None:
    rec = Recorder()
    worker = Scripted(rec).start()
    worker.todo.put(Health("ok"))
    worker.todo.put(KeyError("boom"))
    assert rec.wait_for(2)
    worker.stop(timeout=10)
    assert not worker.running
    assert rec.seen[-1].state == "error"
    assert rec.seen[-1].detail == "测试线程出错：'boom' / Test failed: 'boom'"


def test_stop_from_a_callback_on_the_worker_thread_does_not_deadlock() -> None:
    stopped = threading.Event()
    holder: list[Scripted] = []

    def on_health(health: Health) -> None:
        holder[0].stop()  # join() would wait for itself here; stop must skip it
        stopped.set()

    worker = Scripted(on_health)
    holder.append(worker)
    worker.start()
    worker.todo.put(Health("ok"))
    assert stopped.wait(10)
    worker.todo.put(Health("error", "never reported"))
    worker.stop(timeout=10)
    assert not worker.running
    assert worker.health == Health("ok")


def test_backoff_doubles_up_to_its_limit_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5
