"""The queue page: visibility per team, roles, sorting, keyset pages, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.selectors import SORTS, QueueParams, queue_page
from tests.reviews.factories import make_review_items
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db
URL = reverse("reviews:queue")


def test_queue_lists_own_team_items_with_counts(client, reviewer, version, other_team):
    # given two items for Alice's team and one for another team
    make_review_items(version, 2)
    make_review_items(version, 1, team_id=other_team.pk, key_prefix="OTHER")
    client.force_login(reviewer)
    # when
    response = client.get(URL)
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="queue-row"') == 2
    assert "OTHER-0" not in body
    assert 'data-testid="queue-count-sales-desk-awaiting_review"' in body
    assert "Finance ops" not in body  # not Alice's team: no tab, no count


def test_queue_ignores_a_team_the_user_is_not_in(client, reviewer, version, other_team):
    make_review_items(version, 1, team_id=other_team.pk, key_prefix="OTHER")
    client.force_login(reviewer)
    response = client.get(URL, {"team": other_team.pk})
    assert "OTHER-0" not in response.content.decode()


def test_queue_requires_login_and_the_review_role(client, manager):
    assert client.get(URL).status_code == 302
    client.force_login(manager)
    assert client.get(URL).status_code == 403


def test_queue_wrong_method(client, reviewer):
    client.force_login(reviewer)
    assert client.post(URL).status_code == 405


def test_htmx_request_gets_the_fragment_only(client, reviewer, version):
    make_review_items(version, 1)
    client.force_login(reviewer)
    response = client.get(URL, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="queue-live"' in body
    assert "<html" not in body


def test_queue_shows_who_is_reviewing(client, reviewer, teammate, version):
    (item,) = make_review_items(version, 1)
    WorkItem.objects.filter(pk=item.pk).update(
        claimed_by=teammate, claim_expires_at=timezone.now() + timedelta(minutes=5)
    )
    client.force_login(reviewer)
    assert "being reviewed by bob" in client.get(URL).content.decode()


def test_queue_query_count_does_not_grow_with_page_size(client, reviewer, version):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given a queue longer than both page sizes
    make_review_items(version, 60)
    client.force_login(reviewer)
    counts = {}
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"size": size})
        assert response.content.decode().count('class="queue-row"') == size
        counts[size] = len(ctx)
    # then: session, user, 2 permission lookups, teams, page ids (one UNION), rows,
    # counts, workflows, last event id, unread notifications
    assert counts == {5: 11, 50: 11}


def _expected(sort: str) -> list[int]:
    spec = SORTS[sort]
    rows = list(WorkItem.objects.values_list("pk", spec.field))
    present = sorted(
        ((v, pk) for pk, v in rows if v is not None),
        key=lambda r: ((-r[0] if spec.descending else r[0]), r[1]),
    )
    nulls = sorted(pk for pk, v in rows if v is None)
    return [pk for _, pk in present] + nulls


@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_walk_the_whole_queue_in_order(reviewer, team, version, sort):
    # given items with ties and some missing confidence / due times
    make_review_items(
        version,
        23,
        confidence=lambda i: None if i % 7 == 0 else round(0.5 + (i % 4) / 10, 2),
        due_at=lambda i: None if i % 6 == 0 else timezone.now() + timedelta(minutes=i % 5),
    )
    # when walking pages of 4
    seen: list[int] = []
    after = ""
    for _ in range(20):
        page = queue_page(reviewer, QueueParams(team_id=team.pk, sort=sort, after=after, size=4))
        seen.extend(i.pk for i in page.items)
        after = page.next_cursor
        if not after:
            break
    # then every item appears once, in the sort's order
    assert seen == _expected(sort)


def test_bulk_approve_view(client, reviewer, version):
    items = make_review_items(version, 2, confidence=0.97)
    client.force_login(reviewer)
    response = client.post(
        reverse("reviews:bulk-approve"), {"ids": [i.pk for i in items], "queue": "sort=priority"}
    )
    assert response.status_code == 302
    assert set(WorkItem.objects.values_list("status", flat=True)) == {"approved"}


def test_bulk_approve_refused_to_a_manager(client, manager, version):
    items = make_review_items(version, 1, confidence=0.97)
    client.force_login(manager)
    assert client.post(reverse("reviews:bulk-approve"), {"ids": [items[0].pk]}).status_code == 403


def test_queue_rows_show_relative_age_and_sla(client, reviewer, version):
    # given one item received 3 hours ago, due in 40 minutes, and one overdue by 2 hours
    now = timezone.now()
    fresh, late = make_review_items(version, 2)
    WorkItem.objects.filter(pk=fresh.pk).update(
        created_at=now - timedelta(hours=3), due_at=now + timedelta(minutes=40, seconds=30)
    )
    WorkItem.objects.filter(pk=late.pk).update(due_at=now - timedelta(hours=2, minutes=1))
    client.force_login(reviewer)
    # when
    body = client.get(URL).content.decode()
    # then the cells read as durations, the absolute times are in the tooltips
    assert ">in 40 min</time>" in body
    assert 'class="badge bad"' in body
    assert ">2 h overdue</time>" in body
    assert ">3 h</time>" in body
