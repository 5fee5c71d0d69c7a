"""Celery tasks: thin, take ids, claim their job row (so a re-delivery does nothing twice)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="knowledge.ingest_job_run")
def ingest_job_run_task(job_id: int) -> None:
    from workflows.knowledge.services import ingest_job_run

    ingest_job_run(job_id=job_id)


@shared_task(name="knowledge.reembed_job_run")
def reembed_job_run_task(job_id: int) -> None:
    from workflows.knowledge.services import reembed_job_run

    reembed_job_run(job_id=job_id)


@shared_task(name="knowledge.stale_jobs_resume")
def stale_jobs_resume_task() -> int:
    from workflows.knowledge.services import stale_jobs_resume

    return stale_jobs_resume()
