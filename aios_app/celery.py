"""The Celery app. Configuration lives in settings (CELERY_*); the beat schedule here.

Nothing here touches `app.conf` at import time: importing `aios_app` (which imports this
module) must not load Django settings, which would start the embedded services.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")

app = Celery("aios")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Declared in code (one beat process). Periodic jobs are cheap, idempotent sweeps."""
    from django.conf import settings

    schedule: dict[str, dict[str, Any]] = {
        # Re-send lost / expired / backed-off steps (workflows/steps.py).
        "steps-sweep": {
            "task": "workflows.steps_sweep",
            "schedule": float(settings.AIOS_SWEEP_SECONDS),
            "options": {"expires": 30},
        },
        # Knowledge plane: re-send ingest / re-embed jobs whose worker died.
        "knowledge-stale-jobs": {
            "task": "knowledge.stale_jobs_resume",
            "schedule": 60.0,
            "options": {"expires": 50},
        },
        # Reviews: SLA breaches (flag, notify, escalate per policy) and expired claims.
        "reviews-sla-sweep": {
            "task": "reviews.sla_sweep",
            "schedule": float(os.environ.get("AIOS_SLA_SWEEP_SECONDS", "60")),
            "options": {"expires": 50},
        },
        "reviews-claims-expire": {
            "task": "reviews.claims_expire",
            "schedule": 30.0,
            "options": {"expires": 25},
        },
    }
    trickle = float(getattr(settings, "AIOS_DEMO_TRICKLE_SECONDS", 0) or 0)
    if trickle > 0:  # demo: a new sample item now and then (docs/agents.md)
        schedule["demo-trickle"] = {
            "task": "workflows.demo_trickle",
            "schedule": trickle,
            "options": {"expires": 60},
        }
    return schedule


# A callable default is a promise: evaluated when the configuration is first needed.
app.add_defaults(lambda: {"beat_schedule": beat_schedule()})


@app.task(name="aios.noop_count", ignore_result=True)
def noop_count(key: str) -> None:
    """Benchmark baseline: the cheapest task that still proves it ran (a Redis INCR)."""
    from aios_app.health import redis_client

    redis_client().incr(key)


@app.task(name="aios.ping")
def ping() -> str:
    """Used by /readyz and tests to prove a worker answers."""
    return "pong"


def _install_bootsteps() -> None:
    from aios_app.worker_heartbeat import WorkerHeartbeat

    app.steps["worker"].add(WorkerHeartbeat)


_install_bootsteps()
