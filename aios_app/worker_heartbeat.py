"""A Celery worker bootstep that keeps a heartbeat key in Redis while the worker runs.

`/readyz` and the admin's worker list read these keys. The key expires on its own when the
worker dies (even by kill -9), so a dead worker stops counting within TTL seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from typing import Any

from celery import bootsteps

from aios_app.health import HEARTBEAT_PREFIX

INTERVAL_S = 5
TTL_S = 15


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, worker: Any) -> None:
        from aios_app.health import redis_client

        key = f"{HEARTBEAT_PREFIX}{worker.hostname}"
        queues = sorted(q.name for q in worker.app.amqp.queues.consume_from.values())
        body = json.dumps(
            {
                "hostname": worker.hostname,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "queues": queues,
                "pool": type(worker.pool).__name__,
                "concurrency": worker.concurrency,
            }
        )

        def beat() -> None:
            client = redis_client()
            while not self._stop.is_set():
                try:
                    client.set(key, body, ex=TTL_S)
                except Exception:  # Redis restarting: try again next tick
                    time.sleep(0.5)
                self._stop.wait(INTERVAL_S)
            with contextlib.suppress(Exception):
                client.delete(key)

        self._thread = threading.Thread(target=beat, name="aios-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, worker: Any) -> None:
        self._stop.set()
