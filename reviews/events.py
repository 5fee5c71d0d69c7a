"""Publishing: the engine's after-commit `work_item_changed` signal → Channels groups.

Messages carry ids only (ARCHITECTURE.md "Live updates"); the browser re-fetches the
fragments it shows, so rendering and permissions stay in views. Delivery is at most
once: clients resync from the event log (/reviews/events/?after=<id>).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

DASHBOARD_GROUP = "dashboard"


def queue_group(team_id: int) -> str:
    return f"queue.{team_id}"


def item_group(item_id: int) -> str:
    return f"item.{item_id}"


_MAX_SENDS_IN_FLIGHT = 8


async def _limited(limit: asyncio.Semaphore, send: Any) -> Any:
    async with limit:
        return await send


class _Publisher:
    """Sends channel-layer messages from one background thread with its own event loop.

    Callers (after-commit hooks in web requests and in worker threads) only enqueue, so
    publishing never slows a decision or a step (an `async_to_sync` round trip per event
    cost ~10 ms and a fresh Redis connection), and it works whether or not the caller's
    thread runs an event loop. Delivery stays at most once, like the channel layer
    itself: clients resync from the event log. Re-created after a fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: asyncio.Queue[tuple[dict[str, Any], list[str]]] | None = None

    def submit(self, message: dict[str, Any], groups: list[str]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (or after a fork)
                self._pid = os.getpid()
                self._pending = 0
                # The loop and its queue are made here, so a submit before the thread runs
                # is never lost. No executor thread blocks on a queue: the interpreter
                # joins executor threads at exit, and one blocked forever hung every
                # process that had published (pytest among them).
                self._loop = asyncio.new_event_loop()
                self._inbox = asyncio.Queue()
                threading.Thread(
                    target=self._run, args=(self._loop, self._inbox), name="aios-publisher",
                    daemon=True,
                ).start()  # fmt: skip
            self._pending += 1
            loop, inbox = self._loop, self._inbox
        assert loop is not None
        assert inbox is not None
        with contextlib.suppress(RuntimeError):  # loop closed: the interpreter is exiting
            loop.call_soon_threadsafe(inbox.put_nowait, (message, groups))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far was sent (tests, benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        inbox: asyncio.Queue[tuple[dict[str, Any], list[str]]],
    ) -> None:
        asyncio.set_event_loop(loop)
        # RuntimeError: the interpreter is shutting down (a short-lived command).
        with contextlib.suppress(RuntimeError):
            loop.run_until_complete(self._main(inbox))

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pid = 0  # the next submit starts this process's own loop and thread

    def _flush_at_exit(self) -> None:
        if self._pid == os.getpid():
            self.flush(timeout=2.0)

    async def _main(self, inbox: asyncio.Queue[tuple[dict[str, Any], list[str]]]) -> None:
        layer = get_channel_layer()
        # A burst (a worker completing dozens of steps at once) must not open more Redis
        # connections than the channel layer's pool allows (MaxConnectionsError drops).
        limit = asyncio.Semaphore(_MAX_SENDS_IN_FLIGHT)
        while True:
            batch = [await inbox.get()]
            while not inbox.empty():
                batch.append(inbox.get_nowait())
            pairs = [(g, m) for m, groups in batch for g in groups] if layer else []
            sends = [_limited(limit, layer.group_send(g, m)) for g, m in pairs]
            results = await asyncio.gather(*sends, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    log.warning("could not publish an event: %r", result)
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()


publisher = _Publisher()
# A fork while another thread holds the lock would leave the child's copy locked forever.
os.register_at_fork(after_in_child=publisher._after_fork)
# A short command (load_demo, a shell) sends what it queued before the interpreter exits.
atexit.register(publisher._flush_at_exit)


def publish_work_item_event(
    *, item_id: int, event_id: int, team_id: int, status: str, kind: str
) -> None:
    message = {
        "type": "work_item.event",
        "event_id": event_id,
        "item_id": item_id,
        "status": status,
        "kind": kind,
        "team_id": team_id,
    }
    publisher.submit(message, [queue_group(team_id), item_group(item_id), DASHBOARD_GROUP])


def on_work_item_changed(sender: Any, **kwargs: Any) -> None:
    """Receiver of workflows.events.work_item_changed (connected in ReviewsConfig.ready)."""
    publish_work_item_event(
        item_id=kwargs["item_id"],
        event_id=kwargs["event_id"],
        team_id=kwargs["team_id"],
        status=kwargs["status"],
        kind=kwargs["kind"],
    )
