"""Thin Celery tasks: ids in, a service call, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workflows.step_run_execute", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)  # fmt: skip
def step_run_execute_task(step_run_id: int) -> str:
    from workflows.steps import step_run_execute

    return step_run_execute(step_run_id=step_run_id)


@shared_task(name="workflows.steps_sweep", ignore_result=True)
def steps_sweep_task() -> int:
    from workflows.steps import steps_sweep

    return steps_sweep()


@shared_task(name="workflows.demo_trickle", ignore_result=True)
def demo_trickle_task() -> int | None:
    """One new demo item (beat, every AIOS_DEMO_TRICKLE_SECONDS while the demo runs)."""
    from workflows.demo import demo_trickle_once

    item = demo_trickle_once()
    return item.pk if item else None
