"""SLA sweep: flag breaches once, notify the team, escalate per policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.models import Notification, SlaBreach
from reviews.services import sla_sweep
from tests.reviews.conftest import make_review_workflow
from tests.reviews.factories import make_review_items

pytestmark = pytest.mark.django_db


def test_sweep_flags_overdue_items_once_and_notifies_the_team(version, reviewer, teammate):
    # given one overdue item and one on time
    late, on_time = make_review_items(version, 2)
    late.due_at = timezone.now() - timedelta(minutes=5)
    late.save(update_fields=["due_at"])
    # when
    assert sla_sweep() == 1
    assert sla_sweep() == 0  # idempotent
    # then
    late.refresh_from_db()
    assert late.status == "awaiting_review"  # no sla_action: flagged only
    assert late.events.filter(kind="sla_breached").count() == 1
    assert set(
        Notification.objects.filter(kind="sla_breached").values_list("user__username", flat=True)
    ) == {"alice", "bob"}
    assert not on_time.events.exists()


def test_sweep_escalates_when_the_policy_says_so(team, other_team, downstream, reviewer):
    version = make_review_workflow(
        team,
        downstream.url,
        policy={"mode": "pre_commit", "sla_action": "escalate"},
        escalation_team=other_team,
    )
    (item,) = make_review_items(version, 1, due_at=timezone.now() - timedelta(minutes=1))
    # when
    sla_sweep()
    # then
    item.refresh_from_db()
    assert item.team == other_team
    assert item.status == "awaiting_review"
    assert item.due_at > timezone.now()
    kinds = list(item.events.order_by("seq").values_list("kind", "to_status"))
    assert kinds == [
        ("sla_breached", "awaiting_review"),
        ("transition", "escalated"),
        ("transition", "awaiting_review"),
    ]
    assert SlaBreach.objects.get(item=item).escalated is True
