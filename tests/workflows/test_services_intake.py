import pytest

from workflows.exceptions import InvalidInput, WorkflowNotFound
from workflows.models import StepRun, WorkItem, WorkItemEvent
from workflows.services import work_item_intake


def test_intake_creates_item_event_and_draft_step(auto_version, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item, created = work_item_intake(
            workflow="quotes", external_key="Q-1", input={"customer": "Acme", "amount": 10}
        )
    # then
    assert created
    assert item.status == "received"
    assert item.team_id == auto_version.reviewing_team_id
    assert list(item.events.values_list("kind", flat=True)) == ["received"]
    run = StepRun.objects.get(item=item)
    assert (run.step, run.state, run.queue) == ("draft", "pending", "central")
    assert len(callbacks) == 2  # the step's dispatch and the event's publication


def test_same_external_key_twice_gives_one_item(auto_version):
    first, created_first = work_item_intake(
        workflow="quotes", external_key="Q-2", input={"customer": "Acme", "amount": 10}
    )
    again, created_again = work_item_intake(
        workflow="quotes", external_key="Q-2", input={"customer": "Other", "amount": 99}
    )
    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert WorkItem.objects.count() == 1
    assert again.input["customer"] == "Acme"


def test_bad_input_lists_every_bad_field_and_stores_nothing(auto_version):
    with pytest.raises(InvalidInput) as caught:
        work_item_intake(workflow="quotes", external_key="Q-3", input={"amount": -5})
    assert set(caught.value.errors) == {"$", "amount"}
    assert "customer" in caught.value.errors["$"]
    assert (
        "minimum" in caught.value.errors["amount"] or "less than" in caught.value.errors["amount"]
    )
    assert WorkItem.objects.count() == 0
    assert WorkItemEvent.objects.count() == 0
    assert StepRun.objects.count() == 0


def test_missing_external_key_is_refused(auto_version):
    with pytest.raises(InvalidInput, match="external_key"):
        work_item_intake(workflow="quotes", external_key="  ", input={"customer": "A", "amount": 1})


def test_unknown_workflow_is_refused(db):
    with pytest.raises(WorkflowNotFound):
        work_item_intake(workflow="nope", external_key="x", input={})
