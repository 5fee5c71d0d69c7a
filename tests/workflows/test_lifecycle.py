"""The transition table: every legal move works and leaves one event; every other raises."""

import itertools

import pytest
from django.db import connection, transaction

from workflows.exceptions import IllegalTransition
from workflows.lifecycle import TRANSITIONS, is_legal, record_event, transition, verify_chain
from workflows.models import Status, WorkItem, WorkItemEvent
from workflows.services import work_item_intake

ALL_PAIRS = list(itertools.product(Status.values, Status.values))
LEGAL = [(a, b) for a, b in ALL_PAIRS if is_legal(a, b)]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if not is_legal(a, b)]


@pytest.fixture
def item(auto_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item, _ = work_item_intake(
            workflow=auto_version.workflow, external_key="k-1", input={"customer": "A", "amount": 1}
        )
    return item


def _force_status(item: WorkItem, status: str) -> None:
    WorkItem.objects.filter(pk=item.pk).update(status=status)
    item.refresh_from_db()


def test_table_matches_the_architecture_map():
    assert TRANSITIONS[Status.DRAFTED] >= {Status.AWAITING_REVIEW, Status.COMMITTING}
    assert TRANSITIONS[Status.AWAITING_REVIEW] >= {
        Status.APPROVED, Status.REJECTED, Status.ESCALATED, Status.REDRAFT_REQUESTED
    }  # fmt: skip
    assert Status.CANCELLED not in TRANSITIONS.get(Status.COMMITTED, set())
    assert not TRANSITIONS.get(Status.CANCELLED)  # terminal
    assert len(LEGAL) > 20
    assert len(ILLEGAL) > 150


def test_every_legal_transition_leaves_exactly_one_event(item):
    # one item walked through every legal pair (parametrizing 250 pairs costs minutes)
    for from_status, to_status in LEGAL:
        # given an item in `from_status`
        _force_status(item, from_status)
        before = item.events.count()
        # when
        with transaction.atomic():
            locked = WorkItem.objects.select_for_update().get(pk=item.pk)
            event = transition(locked, to=to_status, actor_label="test")
        # then
        item.refresh_from_db()
        assert item.status == to_status, (from_status, to_status)
        assert item.events.count() == before + 1, (from_status, to_status)
        assert (event.from_status, event.to_status) == (from_status, to_status)
    assert verify_chain(item.pk) == (True, None)


def test_every_illegal_transition_raises_and_records_nothing(item):
    for from_status, to_status in ILLEGAL:
        _force_status(item, from_status)
        before = item.events.count()
        with transaction.atomic():
            locked = WorkItem.objects.select_for_update().get(pk=item.pk)
            with pytest.raises(IllegalTransition):
                transition(locked, to=to_status)
        item.refresh_from_db()
        assert item.status == from_status, (from_status, to_status)
        assert item.events.count() == before, (from_status, to_status)


def test_hash_chain_verifies_and_detects_an_edited_event(item):
    # given a few events
    with transaction.atomic():
        locked = WorkItem.objects.select_for_update().get(pk=item.pk)
        transition(locked, to=Status.DRAFTING)
        record_event(locked, kind="comment", actor_label="bob", payload={"text": "looks fine"})
        transition(locked, to=Status.DRAFTED)
    assert verify_chain(item.pk) == (True, None)
    # when someone with database superpowers edits the comment behind the app's back
    comment = item.events.get(kind="comment")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(
            "UPDATE workflows_workitemevent SET payload = %s WHERE id = %s",
            ['{"text": "approve it all"}', comment.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    # then the chain breaks exactly there
    assert verify_chain(item.pk) == (False, comment.seq)


def test_events_cannot_be_updated_or_deleted(item):
    event = item.events.first()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        WorkItemEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        WorkItemEvent.objects.filter(pk=event.pk).delete()
