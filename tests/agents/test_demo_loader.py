"""The demo loader and the trickle."""

from __future__ import annotations

import random

from workflows.demo import DEMO_WORKFLOWS, demo_trickle_once, demo_workflows_load
from workflows.knowledge.models import Collection, Document
from workflows.llm.models import PromptTemplate
from workflows.models import Workflow, WorkflowVersion, WorkItem


def _counts() -> dict[str, int]:
    return {
        "workflows": Workflow.objects.count(),
        "versions": WorkflowVersion.objects.count(),
        "collections": Collection.objects.count(),
        "documents": Document.objects.count(),
        "prompts": PromptTemplate.objects.count(),
        "items": WorkItem.objects.count(),
    }


def test_loading_twice_creates_nothing_new(demo_teams, embedder):
    # given
    demo_workflows_load()
    first = _counts()
    # when
    demo_workflows_load()
    # then
    assert _counts() == first
    assert first["workflows"] == 3
    assert first["versions"] == 3
    assert first["items"] == 18
    assert first["documents"] == 11


def test_a_changed_definition_gets_a_new_version_but_an_admins_version_is_kept(
    demo_teams, embedder, workflow_admin, monkeypatch
):
    # given
    demo_workflows_load(with_items=False)
    slug = "demo-support-triage"
    changed = {**DEMO_WORKFLOWS[slug], "sla_seconds": 3600}
    monkeypatch.setitem(DEMO_WORKFLOWS, slug, changed)
    # when
    demo_workflows_load(with_items=False)
    # then
    versions = WorkflowVersion.objects.filter(workflow__slug=slug).order_by("number")
    assert [v.sla_seconds for v in versions] == [8 * 3600, 3600]
    # given an admin's own version (say, routed to a real model)
    latest = versions.last()
    latest.pk, latest.number, latest.created_by = None, 3, workflow_admin
    latest.routes = {"draft": "gpt"}
    latest.save()
    monkeypatch.setitem(DEMO_WORKFLOWS, slug, {**changed, "sla_seconds": 7200})
    # when
    demo_workflows_load(with_items=False)
    # then the loader leaves it alone
    assert WorkflowVersion.objects.filter(workflow__slug=slug).count() == 3


def test_the_trickle_adds_exactly_one_item(demo):
    # given
    before = WorkItem.objects.count()
    # when
    item = demo_trickle_once(rng=random.Random(3))
    # then
    assert item is not None
    assert WorkItem.objects.count() == before + 1
    assert item.workflow.slug in DEMO_WORKFLOWS
    assert item.status == "received"


def test_the_trickle_does_nothing_without_the_demo(db):
    assert demo_trickle_once() is None
    assert WorkItem.objects.count() == 0


def test_every_sample_is_valid_input_and_drafts_through_the_engine(demo):
    # given one sample of each kind
    from tests.agents.conftest import intake_and_run
    from workflows.demo import sample_input
    from workflows.schemas import schema_errors

    rng = random.Random(11)
    for slug in DEMO_WORKFLOWS:
        version = Workflow.objects.get(slug=slug).versions.get()
        for n in range(3):
            data = sample_input(slug, rng, n=n + 1)
            assert schema_errors(version.input_schema, data) == {}
        # when
        item = intake_and_run(slug, data, key=f"sample-{slug}")
        # then
        assert item.current_draft is not None
        assert item.current_draft.valid
        assert schema_errors(version.draft_schema, item.current_draft.fields) == {}
