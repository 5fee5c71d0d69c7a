"""Bulk approve: high-confidence items of the reviewer's teams, one event each."""

from __future__ import annotations

import pytest

from reviews.services import work_item_claim, work_item_reject, work_items_bulk_approve
from tests.reviews.factories import make_review_items
from workflows.models import StepRun

pytestmark = pytest.mark.django_db


def test_bulk_approve_gives_each_item_its_own_event_and_commit_step(version, reviewer):
    # given three confident items
    items = make_review_items(version, 3, confidence=0.95)
    # when
    result = work_items_bulk_approve(item_ids=[i.pk for i in items], reviewer=reviewer)
    # then
    assert sorted(result.approved) == sorted(i.pk for i in items)
    assert result.skipped == {}
    for item in items:
        item.refresh_from_db()
        assert item.status == "approved"
        (event,) = item.events.filter(to_status="approved")
        assert event.payload["bulk"] is True
        assert event.actor == reviewer
    assert StepRun.objects.filter(step="commit", item__in=items).count() == 3


def test_bulk_approve_skips_what_it_must_not_approve(
    version, reviewer, teammate, other_team, settings
):
    settings.AIOS_REVIEW_BULK_MIN_CONFIDENCE = 0.9
    ok, low, decided, held = make_review_items(version, 4, confidence=0.95)
    low.confidence = 0.5
    low.save(update_fields=["confidence"])
    (foreign,) = make_review_items(
        version, 1, confidence=0.99, team_id=other_team.pk, key_prefix="O"
    )
    work_item_reject(item_id=decided.pk, reviewer=teammate, reason="dup")
    work_item_claim(item_id=held.pk, reviewer=teammate)
    # when
    ids = [ok.pk, low.pk, decided.pk, held.pk, foreign.pk, 999999]
    result = work_items_bulk_approve(item_ids=ids, reviewer=reviewer)
    # then
    assert result.approved == [ok.pk]
    assert result.skipped == {
        low.pk: "confidence below 0.90",
        decided.pk: "already rejected",
        held.pk: "being reviewed by bob",
        foreign.pk: "not your team's item",
        999999: "not found",
    }
    foreign.refresh_from_db()
    assert foreign.status == "awaiting_review"
