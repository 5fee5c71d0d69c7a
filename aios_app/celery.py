"""The Celery app. Configuration lives in settings (CELERY_*); the beat schedule here."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")

app = Celery("aios")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Declared in code (one beat process). Periodic jobs are cheap, idempotent sweeps.
app.conf.beat_schedule = {
    "steps-sweep": {
        "task": "workflows.steps_sweep",
        "schedule": float(os.environ.get("AIOS_SWEEP_SECONDS", "5")),
        "options": {"expires": 30},
    },
}

# Knowledge plane: re-send ingest / re-embed jobs whose worker died or whose message was lost.
app.conf.beat_schedule["knowledge-stale-jobs"] = {
    "task": "knowledge.stale_jobs_resume",
    "schedule": 60.0,
    "options": {"expires": 50},
}


# Reviews: SLA breaches (flag, notify, escalate per policy) and expired claims.
app.conf.beat_schedule["reviews-sla-sweep"] = {
    "task": "reviews.sla_sweep",
    "schedule": float(os.environ.get("AIOS_SLA_SWEEP_SECONDS", "60")),
    "options": {"expires": 50},
}
app.conf.beat_schedule["reviews-claims-expire"] = {
    "task": "reviews.claims_expire",
    "schedule": 30.0,
    "options": {"expires": 25},
}


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


def _demo_trickle_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "AIOS_DEMO_TRICKLE_SECONDS", 0) or 0)


# Demo: a new sample item now and then, so queues keep filling (off when 0; docs/agents.md).
if _demo_trickle_seconds() > 0:
    app.conf.beat_schedule["demo-trickle"] = {
        "task": "workflows.demo_trickle",
        "schedule": _demo_trickle_seconds(),
        "options": {"expires": 60},
    }
