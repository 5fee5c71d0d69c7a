"""Review fixtures: a pre-commit workflow with a draft schema, items waiting for review."""

from __future__ import annotations

from typing import Any

import pytest

from aios_app.models import Team
from tests.workflows.conftest import run_due_steps
from workflows.connectors.fake_downstream import Downstream
from workflows.models import Workflow, WorkflowVersion, WorkItem
from workflows.services import work_item_intake, workflow_version_create

DRAFT_SCHEMA = {
    "type": "object",
    "required": ["customer", "amount"],
    "properties": {
        "customer": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0},
        "note": {"type": "string"},
    },
}


def make_review_workflow(
    team: Team,
    downstream_url: str,
    *,
    slug: str = "quotes",
    policy: dict[str, Any] | None = None,
    escalation_team: Team | None = None,
    sla_seconds: int = 3600,
) -> WorkflowVersion:
    workflow = Workflow.objects.create(slug=slug, name=slug.title())
    return workflow_version_create(
        workflow=workflow,
        agent="echo",
        reviewing_team=team,
        escalation_team=escalation_team,
        review_policy=policy or {"mode": "pre_commit"},
        draft_schema=DRAFT_SCHEMA,
        connector={"kind": "http", "url": downstream_url, "timeout_s": 5},
        steps={"draft": {"backoff_s": 0.01}, "commit": {"backoff_s": 0.01}},
        sla_seconds=sla_seconds,
    )


@pytest.fixture
def version(team: Team, other_team: Team, downstream: Downstream) -> WorkflowVersion:
    """Pre-commit review by the sales desk; escalation to finance ops."""
    return make_review_workflow(team, downstream.url, escalation_team=other_team)


def intake_for_review(key: str, **input_extra: Any) -> WorkItem:
    """Through the real engine: intake, draft (echo agent), policy → awaiting_review."""
    item, _ = work_item_intake(
        workflow="quotes", external_key=key, input={"customer": "Acme", "amount": 5, **input_extra}
    )
    item = run_due_steps(item)
    assert item.status == "awaiting_review", item.status
    return item


@pytest.fixture
def item(version: WorkflowVersion) -> WorkItem:
    return intake_for_review("Q-1")
