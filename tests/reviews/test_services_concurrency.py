"""Two reviewers deciding one item at the same moment: exactly one decision is recorded."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from reviews.exceptions import AlreadyDecided
from reviews.services import work_item_approve, work_item_reject
from tests.reviews.factories import make_review_items

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_threads_deciding_one_item_one_wins(version, reviewer, teammate):
    # given one item and two reviewers about to act on it
    (item,) = make_review_items(version, 1)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name: str, action) -> None:
        try:
            barrier.wait(timeout=5)
            action()
            outcomes[name] = "won"
        except AlreadyDecided:
            outcomes[name] = "already decided"
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide,
            args=("alice", lambda: work_item_approve(item_id=item.pk, reviewer=reviewer)),
        ),
        threading.Thread(
            target=decide,
            args=("bob", lambda: work_item_reject(item_id=item.pk, reviewer=teammate, reason="no")),
        ),
    ]
    # when both act at once
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    # then exactly one won, the other was told, and one decision event exists
    assert sorted(outcomes.values()) == ["already decided", "won"]
    item.refresh_from_db()
    decisions = item.events.filter(to_status__in=["approved", "rejected"])
    assert decisions.count() == 1
    assert item.status == decisions.get().to_status
