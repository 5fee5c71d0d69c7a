"""Engine fixtures: a workflow with an `echo` agent and a downstream fake HTTP system."""

from __future__ import annotations

from typing import Any

from aios_app.models import Team
from workflows.models import StepRun, Workflow, WorkflowVersion, WorkItem
from workflows.services import workflow_version_create
from workflows.steps import step_run_execute

INPUT_SCHEMA = {
    "type": "object",
    "required": ["customer", "amount"],
    "properties": {
        "customer": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0},
    },
}


def make_workflow(
    team: Team,
    downstream_url: str,
    *,
    slug: str = "quotes",
    policy: dict[str, Any] | None = None,
    steps: dict[str, Any] | None = None,
    queue: str = "central",
    escalation_team: Team | None = None,
) -> WorkflowVersion:
    workflow = Workflow.objects.create(slug=slug, name=slug.title())
    return workflow_version_create(
        workflow=workflow,
        agent="echo",
        reviewing_team=team,
        escalation_team=escalation_team,
        review_policy=policy or {"mode": "auto"},
        input_schema=INPUT_SCHEMA,
        connector={"kind": "http", "url": downstream_url, "timeout_s": 5},
        steps=steps or {"draft": {"backoff_s": 0.01}, "commit": {"backoff_s": 0.01}},
        queue=queue,
    )


def run_due_steps(item: WorkItem, *, max_rounds: int = 50) -> WorkItem:
    """Drive an item's steps in this process until none is due (no worker needed)."""
    import time

    for _ in range(max_rounds):
        pending = StepRun.objects.filter(item=item, state=StepRun.State.PENDING).first()
        if pending is None:
            break
        wait = pending.available_at.timestamp() - time.time()
        if wait > 0:
            time.sleep(min(wait, 2))
        step_run_execute(step_run_id=pending.pk)
    item.refresh_from_db()
    return item
