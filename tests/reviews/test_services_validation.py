"""Post-commit validation: sampled items are confirmed or rolled back downstream."""

from __future__ import annotations

import pytest

from reviews.exceptions import AlreadyDecided
from reviews.services import work_item_rollback, work_item_validate
from tests.reviews.conftest import make_review_workflow
from tests.workflows.conftest import run_due_steps
from workflows.connectors.base import idempotency_key
from workflows.services import work_item_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed_item(team, downstream):
    make_review_workflow(team, downstream.url, policy={"mode": "post_commit"})
    item, _ = work_item_intake(
        workflow="quotes", external_key="V-1", input={"customer": "Acme", "amount": 5}
    )
    item = run_due_steps(item)
    assert item.status == "awaiting_validation"
    return item


def test_validator_confirms_a_committed_item(committed_item, reviewer):
    work_item_validate(item_id=committed_item.pk, reviewer=reviewer)
    committed_item.refresh_from_db()
    assert committed_item.status == "validated"
    assert committed_item.events.get(to_status="validated").actor == reviewer


def test_rollback_calls_the_connector_and_ends_rolled_back_with_reason(
    committed_item, reviewer, downstream
):
    # when
    work_item_rollback(item_id=committed_item.pk, reviewer=reviewer, reason="wrong customer")
    committed_item.refresh_from_db()
    assert committed_item.events.filter(kind="rollback_requested").count() == 1
    # a second rollback while the first is under way is refused
    with pytest.raises(AlreadyDecided):
        work_item_rollback(item_id=committed_item.pk, reviewer=reviewer, reason="again")
    item = run_due_steps(committed_item)
    # then
    assert item.status == "rolled_back"
    event = item.events.get(to_status="rolled_back")
    assert event.payload["reason"] == "wrong customer"
    assert event.actor_label == "alice"
    key = idempotency_key(item_id=item.pk, step="rollback")
    assert downstream.applied[key]["path"] == "/rollback"
    assert downstream.applied[key]["reason"] == "wrong customer"
