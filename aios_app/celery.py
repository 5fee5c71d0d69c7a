"""The Celery app. Configuration lives in settings (CELERY_*); the beat schedule here."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")

app = Celery("aios")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Declared in code (one beat process). Periodic jobs are cheap, idempotent sweeps.
app.conf.beat_schedule = {}


@app.task(name="aios.ping")
def ping() -> str:
    """Used by /readyz and tests to prove a worker answers."""
    return "pong"


def _install_bootsteps() -> None:
    from aios_app.worker_heartbeat import WorkerHeartbeat

    app.steps["worker"].add(WorkerHeartbeat)


_install_bootsteps()
