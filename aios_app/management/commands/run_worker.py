"""Start a Celery worker for the given queues (placement: central vs edge workers).

Uses the threads pool with high concurrency by default: steps spend their time waiting on
model and connector I/O, so one process keeps many calls in flight (see docs/engine.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aios_app.celery import app


class Command(BaseCommand):
    help = "Run a Celery worker consuming the given queues."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", default="central", help="comma-separated queue names")
        parser.add_argument("--concurrency", type=int, default=64, help="threads in flight")
        parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
        parser.add_argument("--hostname", default=None, help="worker name (default: per queue)")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
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
