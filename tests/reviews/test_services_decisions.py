"""Each reviewer action: its transitions, events, steps and guards."""

from __future__ import annotations

import pytest

from reviews.exceptions import AlreadyDecided, ClaimedByOther, InvalidInput
from reviews.models import Comment, Notification
from reviews.services import (
    work_item_approve,
    work_item_claim,
    work_item_comment,
    work_item_escalate,
    work_item_reject,
    work_item_request_redraft,
)
from tests.reviews.conftest import intake_for_review
from tests.workflows.conftest import run_due_steps
from workflows.lifecycle import verify_chain
from workflows.models import StepRun, WorkItem

pytestmark = pytest.mark.django_db


def _statuses(item: WorkItem) -> list[str]:
    return list(item.events.order_by("seq").values_list("to_status", flat=True))


def test_approve_as_drafted_schedules_commit_and_commits_the_draft(item, reviewer, downstream):
    # when
    work_item_approve(item_id=item.pk, reviewer=reviewer)
    # then
    item.refresh_from_db()
    assert item.status == "approved"
    event = item.events.get(to_status="approved")
    assert event.actor == reviewer
    assert event.payload["edited"] is False
    assert StepRun.objects.filter(item=item, step="commit", state="pending").exists()
    # and the commit step sends the draft downstream
    item = run_due_steps(item)
    assert item.status == "committed"
    (sent,) = downstream.commits().values()
    assert sent["payload"]["fields"] == {"customer": "Acme", "amount": 5}
    assert verify_chain(item.pk) == (True, None)


def test_edit_and_approve_stores_the_diff_and_commits_the_edited_fields(item, reviewer, downstream):
    # when Alice changes the amount and adds a note
    edited = {"customer": "Acme", "amount": 7.5, "note": "agreed by phone"}
    work_item_approve(item_id=item.pk, reviewer=reviewer, edited=edited)
    # then the diff is in the approve event
    item.refresh_from_db()
    event = item.events.get(to_status="approved")
    assert event.payload["edited"] is True
    assert event.payload["diff"] == {
        "amount": {"before": 5, "after": 7.5},
        "note": {"before": None, "after": "agreed by phone"},
    }
    # and the final fields are a draft by a person, which is what gets committed
    assert item.current_draft.author_kind == "person"
    assert item.current_draft.author == reviewer
    assert item.current_draft.fields == edited
    item = run_due_steps(item)
    (sent,) = downstream.commits().values()
    assert sent["payload"]["fields"] == edited


def test_approve_with_unchanged_fields_is_a_plain_approve(item, reviewer):
    work_item_approve(item_id=item.pk, reviewer=reviewer, edited={"customer": "Acme", "amount": 5})
    item.refresh_from_db()
    assert item.events.get(to_status="approved").payload["edited"] is False
    assert item.drafts.count() == 1


def test_approve_with_invalid_edits_stores_nothing(item, reviewer):
    # when the edits break the draft schema
    with pytest.raises(InvalidInput) as exc:
        work_item_approve(item_id=item.pk, reviewer=reviewer, edited={"customer": "", "amount": -1})
    # then every bad field is named and nothing changed
    assert set(exc.value.errors) == {"customer", "amount"}
    item.refresh_from_db()
    assert item.status == "awaiting_review"
    assert item.drafts.count() == 1
    assert not StepRun.objects.filter(item=item, step="commit").exists()


def test_approve_refuses_item_already_decided(item, reviewer, teammate):
    # given Bob rejected it a moment ago
    work_item_reject(item_id=item.pk, reviewer=teammate, reason="duplicate")
    events_before = item.events.count()
    # when
    with pytest.raises(AlreadyDecided, match="already rejected by bob"):
        work_item_approve(item_id=item.pk, reviewer=reviewer)
    # then nothing new was recorded
    assert item.events.count() == events_before


def test_decision_refused_while_another_reviewer_holds_the_claim(item, reviewer, teammate):
    work_item_claim(item_id=item.pk, reviewer=teammate)
    with pytest.raises(ClaimedByOther, match="bob"):
        work_item_approve(item_id=item.pk, reviewer=reviewer)


def test_decision_releases_the_deciders_claim_and_records_review_time(item, reviewer):
    work_item_claim(item_id=item.pk, reviewer=reviewer)
    work_item_approve(item_id=item.pk, reviewer=reviewer)
    item.refresh_from_db()
    assert item.claimed_by is None
    assert item.claim_expires_at is None
    assert item.events.get(to_status="approved").payload["review_seconds"] is not None


def test_reject_requires_a_reason_and_records_it(item, reviewer):
    with pytest.raises(InvalidInput):
        work_item_reject(item_id=item.pk, reviewer=reviewer, reason="  ")
    work_item_reject(item_id=item.pk, reviewer=reviewer, reason="customer withdrew")
    item.refresh_from_db()
    assert item.status == "rejected"
    assert item.closed_at is not None
    assert item.events.get(to_status="rejected").payload["reason"] == "customer withdrew"


def test_escalate_moves_item_to_the_escalation_team_with_two_transitions(
    item, reviewer, other_team, other_team_reviewer
):
    # when
    work_item_escalate(item_id=item.pk, reviewer=reviewer, reason="needs finance sign-off")
    # then
    item.refresh_from_db()
    assert item.status == "awaiting_review"
    assert item.team == other_team
    assert _statuses(item)[-2:] == ["escalated", "awaiting_review"]
    escalated = item.events.get(to_status="escalated")
    assert escalated.payload["reason"] == "needs finance sign-off"
    assert escalated.payload["to_team"] == other_team.slug
    assert Notification.objects.filter(user=other_team_reviewer, kind="escalated").count() == 1


def test_escalate_to_a_chosen_team(team, other_team, reviewer, downstream):
    from tests.reviews.conftest import make_review_workflow

    make_review_workflow(team, downstream.url)  # no escalation team configured
    item = intake_for_review("Q-9")
    with pytest.raises(InvalidInput) as exc:
        work_item_escalate(item_id=item.pk, reviewer=reviewer, reason="why")
    assert "team" in exc.value.errors
    work_item_escalate(item_id=item.pk, reviewer=reviewer, reason="why", team_id=other_team.pk)
    item.refresh_from_db()
    assert item.team == other_team


def test_request_redraft_runs_the_agent_again_with_the_instruction(item, reviewer):
    # when
    work_item_request_redraft(item_id=item.pk, reviewer=reviewer, instruction="use EUR")
    item.refresh_from_db()
    assert item.status == "redraft_requested"
    # then the draft step runs with the instruction and the item returns to review
    item = run_due_steps(item)
    assert item.status == "awaiting_review"
    assert item.current_draft.number == 2
    assert item.current_draft.instruction == "use EUR"
    assert item.current_draft.fields["instruction"] == "use EUR"  # the echo agent shows it


def test_comment_with_mentions_notifies_teammates_only(
    item, reviewer, teammate, other_team_reviewer
):
    # when Alice mentions Bob (her team) and Charlie (another team)
    comment = work_item_comment(
        item_id=item.pk, author=reviewer, body="@bob can you check? cc @charlie"
    )
    # then only Bob is notified; the comment is on the timeline
    assert list(comment.mentions.all()) == [teammate]
    assert Notification.objects.filter(kind="mention").count() == 1
    assert Notification.objects.get(kind="mention").user == teammate
    event = item.events.get(kind="comment")
    assert event.payload["mentions"] == ["bob"]
    assert Comment.objects.count() == 1
