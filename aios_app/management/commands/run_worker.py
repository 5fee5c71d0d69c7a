"""Start a Celery worker for the given queues (placement: central vs edge workers).

Uses the threads pool with high concurrency by default: steps spend their time waiting on
model and connector I/O, so one process keeps many calls in flight (see docs/engine.md).

The command supervises its worker: when the worker process dies of anything but a stop
request, it is started again (after 1 s, doubling to 30 s while it keeps dying early).
Celery 5.7 with the Redis transport can exit with "Unrecoverable error: AttributeError
... 'hostname'" when the broker restarts under it (kombu restores unacked messages through
a connection it has already dropped); a process manager would restart it too, but under
`make run` one exited process stops them all. Work is never lost either way — the sweeper
re-sends from the database — this only keeps a worker serving. `--no-supervise` runs the
worker in this process.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aios_app.celery import app

MANAGE = Path(__file__).resolve().parents[3] / "manage.py"
HEALTHY_AFTER_S = 60.0  # a worker that ran this long resets the restart delay
MAX_DELAY_S = 30.0


def _die_with_parent() -> None:
    """In the child: SIGKILL when the supervisor dies (kill -9 of the command kills both)."""
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(1)


class Command(BaseCommand):
    help = "Run a Celery worker consuming the given queues (restarted if it dies)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", default="central", help="comma-separated queue names")
        parser.add_argument("--concurrency", type=int, default=64, help="threads in flight")
        parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
        parser.add_argument("--hostname", default=None, help="worker name (default: per queue)")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument(
            "--no-supervise", action="store_true", help="run the worker in this process"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["no_supervise"]:
            self._run_worker(options)
        else:
            raise SystemExit(self._supervise(options))

    def _run_worker(self, options: dict[str, Any]) -> None:
        queues = [q.strip() for q in options["queues"].split(",") if q.strip()]
        hostname = options["hostname"] or f"{'+'.join(queues)}@%h"
        argv = [
            "worker",
            f"--queues={','.join(queues)}",
            f"--pool={options['pool']}",
            f"--concurrency={options['concurrency']}",
            f"--hostname={hostname}",
            f"--loglevel={options['loglevel']}",
            "--without-gossip",
            "--without-mingle",
        ]
        app.worker_main(argv)

    def _supervise(self, options: dict[str, Any]) -> int:
        argv = [
            sys.executable, str(MANAGE), "run_worker", "--no-supervise",
            "--queues", options["queues"], "--concurrency", str(options["concurrency"]),
            "--pool", options["pool"], "--loglevel", options["loglevel"],
        ]  # fmt: skip
        if options["hostname"]:
            argv += ["--hostname", options["hostname"]]
        stopping = False
        child: subprocess.Popen[bytes] | None = None

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True
            if child is not None and child.poll() is None:
                child.send_signal(signum)  # the worker's own warm shutdown

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        delay = 1.0
        while True:
            started = time.monotonic()
            # Its own process group: a terminal's Ctrl-C reaches it once, forwarded by us
            # (twice would make Celery's warm shutdown a cold one).
            child = subprocess.Popen(argv, preexec_fn=_die_with_parent, process_group=0)  # noqa: PLW1509
            if stopping:  # a stop that came while it was being started
                child.send_signal(signal.SIGTERM)
            returncode = child.wait()
            if stopping:
                return 0
            if returncode == 0:
                return 0
            if time.monotonic() - started > HEALTHY_AFTER_S:
                delay = 1.0
            self.stderr.write(f"worker exited with {returncode}; restarting in {delay:.0f} s")
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not stopping:
                time.sleep(0.1)
            if stopping:
                return 0
            delay = min(delay * 2, MAX_DELAY_S)
