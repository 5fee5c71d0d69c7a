"""Agent fixtures: the demo workflows loaded (knowledge ingested, no sample items), their
commits going to a fake downstream system, the offline provider registered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aios_app.models import Team
from tests.workflows.conftest import run_due_steps
from workflows.agents import drafting
from workflows.agents.offline import offline_chat
from workflows.connectors.fake_downstream import Downstream
from workflows.demo import DEMO_WORKFLOWS, demo_workflows_load
from workflows.llm import selectors as llm_selectors
from workflows.llm.providers import register_offline_handler
from workflows.models import Workflow, WorkflowVersion, WorkItem
from workflows.services import current_version, work_item_intake, workflow_version_create

DEMO_TEAMS = ["sales-desk", "finance-ops", "support", "escalations"]


@pytest.fixture(autouse=True)
def _offline_provider() -> Iterator[None]:
    # Other test modules replace or remove the "*" handler; every test here starts with
    # the real one, and with no per-process caches of rows an earlier test rolled back.
    register_offline_handler(offline_chat)
    llm_selectors.config_cache_clear()
    drafting._prompts_ready.clear()
    yield
    register_offline_handler(offline_chat)
    llm_selectors.config_cache_clear()


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The local embedding model, loaded once per session."""
    from workflows.knowledge.embeddings import get_embedder

    loaded = get_embedder()
    loaded.embed(["warm up"])
    return loaded


@pytest.fixture
def demo_teams(db: None) -> dict[str, Team]:
    return {
        slug: Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in DEMO_TEAMS
    }


@pytest.fixture
def downstream() -> Iterator[Downstream]:
    server = Downstream()
    yield server
    server.close()


@pytest.fixture
def demo(
    demo_teams: dict[str, Team], downstream: Downstream, settings: Any, embedder: Any
) -> Downstream:
    """The demo workflows (no items yet); the demo sink is the fake downstream."""
    settings.AIOS_DEMO_SINK_URL = downstream.url
    demo_workflows_load(with_items=False)
    return downstream


def intake_and_run(slug: str, input: dict[str, Any], key: str = "t-1") -> WorkItem:
    item, created = work_item_intake(workflow=slug, external_key=key, input=input)
    assert created
    return run_due_steps(item)


def version_like(slug: str, **changes: Any) -> WorkflowVersion:
    """A new version of demo workflow `slug` equal to its latest but for `changes`."""
    latest = current_version(Workflow.objects.get(slug=slug))
    fields = {
        "agent": latest.agent,
        "reviewing_team": latest.reviewing_team,
        "escalation_team": latest.escalation_team,
        "review_policy": latest.review_policy,
        "input_schema": latest.input_schema,
        "draft_schema": latest.draft_schema,
        "connector": latest.connector,
        "steps": latest.steps,
        "routes": latest.routes,
        "sla_seconds": latest.sla_seconds,
    }
    return workflow_version_create(workflow=latest.workflow, **{**fields, **changes})


__all__ = ["DEMO_WORKFLOWS", "intake_and_run", "version_like"]
