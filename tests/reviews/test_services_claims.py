"""Claims: taking, extending, refusing, releasing, expiring; time per review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.exceptions import ClaimedByOther
from reviews.models import ReviewSession
from reviews.services import (
    claims_expire,
    work_item_approve,
    work_item_claim,
    work_item_ping,
    work_item_release,
)
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


def test_claim_records_an_event_and_a_review_session(item, reviewer):
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=120)
    item.refresh_from_db()
    assert item.claimed_by == reviewer
    assert item.claim_expires_at > timezone.now() + timedelta(seconds=100)
    assert item.events.filter(kind="claimed").count() == 1
    assert ReviewSession.objects.filter(item=item, reviewer=reviewer).count() == 1


def test_reclaiming_own_claim_extends_it_without_a_new_event(item, reviewer):
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=60)
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=600)
    item.refresh_from_db()
    assert item.events.filter(kind="claimed").count() == 1
    assert item.claim_expires_at > timezone.now() + timedelta(seconds=500)


def test_claim_refused_while_another_reviewer_holds_it(item, reviewer, teammate):
    work_item_claim(item_id=item.pk, reviewer=reviewer)
    with pytest.raises(ClaimedByOther):
        work_item_claim(item_id=item.pk, reviewer=teammate)


def test_release_gives_the_claim_back(item, reviewer, teammate):
    work_item_claim(item_id=item.pk, reviewer=reviewer)
    work_item_release(item_id=item.pk, reviewer=teammate)  # not Bob's: nothing happens
    assert WorkItem.objects.get(pk=item.pk).claimed_by == reviewer
    work_item_release(item_id=item.pk, reviewer=reviewer)
    item.refresh_from_db()
    assert item.claimed_by is None
    assert item.events.filter(kind="released").count() == 1
    work_item_claim(item_id=item.pk, reviewer=teammate)  # now Bob may take it


def test_expired_claim_is_released_by_the_sweep_and_can_be_taken(item, reviewer, teammate):
    # given Alice's claim ran out
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=1)
    WorkItem.objects.filter(pk=item.pk).update(claim_expires_at=timezone.now() - timedelta(1))
    # Bob may take an expired claim even before the sweep
    work_item_claim(item_id=item.pk, reviewer=teammate)
    work_item_release(item_id=item.pk, reviewer=teammate)
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=1)
    WorkItem.objects.filter(pk=item.pk).update(claim_expires_at=timezone.now() - timedelta(1))
    # when
    assert claims_expire() == 1
    # then
    item.refresh_from_db()
    assert item.claimed_by is None
    assert item.events.filter(kind="claim_expired").get().payload == {"user": "alice"}
    assert claims_expire() == 0


def test_ping_extends_the_claim_only_for_its_holder(item, reviewer, teammate):
    work_item_claim(item_id=item.pk, reviewer=reviewer, seconds=5)
    assert work_item_ping(item_id=item.pk, reviewer=reviewer) is True
    assert work_item_ping(item_id=item.pk, reviewer=teammate) is False
    item.refresh_from_db()
    assert item.claim_expires_at > timezone.now() + timedelta(seconds=60)


def test_review_time_counts_active_gaps_and_skips_idle_ones(item, reviewer, settings):
    # given a session opened 10 minutes ago with pings 20 s apart, then a 5-minute gap
    settings.AIOS_REVIEW_IDLE_SECONDS = 60
    work_item_claim(item_id=item.pk, reviewer=reviewer)
    session = ReviewSession.objects.get(item=item)
    start = timezone.now() - timedelta(minutes=10)
    ReviewSession.objects.filter(pk=session.pk).update(opened_at=start, last_activity_at=start)
    # (pings at +20 s and +40 s, then idle until the decision)
    for offset in (20, 40):
        session.refresh_from_db()
        from reviews.services import _add_activity

        _add_activity(session, start + timedelta(seconds=offset))
        session.save()
    # when Alice decides now (more than 9 minutes after her last activity)
    work_item_approve(item_id=item.pk, reviewer=reviewer)
    # then only the two 20-second gaps count
    item.refresh_from_db()
    assert item.events.get(to_status="approved").payload["review_seconds"] == 40.0
    session.refresh_from_db()
    assert session.decision == "approved"
    assert session.active_seconds == pytest.approx(40.0)
