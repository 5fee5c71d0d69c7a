"""The item page and its actions: permissions, safe rendering, 409/422, next-item loop."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviews.services import work_item_claim, work_item_reject
from tests.reviews.factories import make_review_items
from workflows.models import Draft, WorkItem

pytestmark = pytest.mark.django_db
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _url(name: str, item: WorkItem) -> str:
    return reverse(f"reviews:{name}", args=[item.pk])


def test_item_page_shows_input_draft_and_timeline(client, reviewer, item):
    client.force_login(reviewer)
    response = client.get(_url("work-item", item))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="field:amount"' in body
    assert "awaiting_review" in body  # timeline
    assert f'hx-post="{_url("work-item-claim", item)}"' in body  # opening claims (by POST)
    assert not WorkItem.objects.get(pk=item.pk).claimed_by  # GET never mutates


def test_item_of_another_team_is_not_found(client, other_team_reviewer, item):
    client.force_login(other_team_reviewer)
    assert client.get(_url("work-item", item)).status_code == 404
    assert client.post(_url("work-item-approve", item)).status_code == 404
    assert client.post(_url("work-item-claim", item)).status_code == 404
    item.refresh_from_db()
    assert item.status == "awaiting_review"


def test_manager_cannot_see_or_decide(client, manager, item):
    client.force_login(manager)
    assert client.get(_url("work-item", item)).status_code == 403
    assert client.post(_url("work-item-approve", item)).status_code == 403
    assert client.post(_url("work-item-reject", item), {"reason": "x"}).status_code == 403


def test_anonymous_is_sent_to_login(client, item):
    response = client.get(_url("work-item", item))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_actions_refuse_get(client, reviewer, item):
    client.force_login(reviewer)
    assert client.get(_url("work-item-approve", item)).status_code == 405


def test_script_and_html_in_input_and_draft_are_inert(client, reviewer, version):
    # given an item whose input, draft fields, rationale and citations carry markup
    (item,) = make_review_items(version, 1, fields={"customer": XSS, "amount": 1})
    item.input = {"customer": XSS, "nested": {"html": XSS}}
    item.save(update_fields=["input"])
    Draft.objects.filter(pk=item.current_draft_id).update(
        rationale=XSS, citations=[{"title": XSS, "source": XSS, "text": XSS}]
    )
    client.force_login(reviewer)
    # when
    body = client.get(_url("work-item", item)).content.decode()
    # then no markup from the data survives as markup
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=" in body


def test_approve_opens_the_next_item(client, reviewer, version):
    first, second = make_review_items(version, 2, priority=lambda i: 5 - i)
    client.force_login(reviewer)
    response = client.post(
        _url("work-item-approve", first), {"queue": "sort=priority", "with_fields": "1",
                                           "field:customer": "Customer 0", "field:amount": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"].startswith(_url("work-item", second))
    first.refresh_from_db()
    assert first.status == "approved"
    assert first.events.get(to_status="approved").payload["edited"] is False


def test_htmx_approve_with_edits_redirects_with_hx_header(client, reviewer, item):
    client.force_login(reviewer)
    response = client.post(
        _url("work-item-approve", item),
        {"with_fields": "1", "field:customer": "Acme Ltd", "field:amount": "6", "field:note": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("reviews:queue"))  # nothing left
    item.refresh_from_db()
    diff = item.events.get(to_status="approved").payload["diff"]
    assert diff == {
        "customer": {"before": "Acme", "after": "Acme Ltd"},
        "amount": {"before": 5, "after": 6},
    }
    # the item page shows the stored diff
    body = client.get(_url("work-item", item)).content.decode()
    assert 'data-testid="diff"' in body
    assert "Acme Ltd" in body


def test_invalid_edit_answers_422_with_errors_per_field(client, reviewer, item):
    client.force_login(reviewer)
    response = client.post(
        _url("work-item-approve", item),
        {"with_fields": "1", "field:customer": "", "field:amount": "lots"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "enter a number" in body
    assert 'value="lots"' in body  # what was typed is shown again
    item.refresh_from_db()
    assert item.status == "awaiting_review"


def test_deciding_an_item_someone_else_decided_answers_409_with_fresh_state(
    client, reviewer, teammate, item
):
    work_item_reject(item_id=item.pk, reviewer=teammate, reason="dup")
    client.force_login(reviewer)
    response = client.post(
        _url("work-item-approve", item), {"with_fields": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "already rejected by bob" in body
    assert 'data-status="rejected"' in body


def test_claim_view_shows_who_holds_the_item(client, reviewer, teammate, item):
    work_item_claim(item_id=item.pk, reviewer=teammate)
    client.force_login(reviewer)
    response = client.post(_url("work-item-claim", item), headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "Being reviewed by <strong>bob</strong>" in response.content.decode()


def test_reject_without_reason_is_422(client, reviewer, item):
    client.force_login(reviewer)
    response = client.post(_url("work-item-reject", item), {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    item.refresh_from_db()
    assert item.status == "awaiting_review"


def test_escalate_view_uses_the_workflow_default(client, reviewer, other_team, item):
    client.force_login(reviewer)
    response = client.post(_url("work-item-escalate", item), {"reason": "finance", "team": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.team == other_team


def test_comment_view_appends_to_timeline(client, reviewer, item):
    client.force_login(reviewer)
    response = client.post(
        _url("work-item-comment", item), {"body": "looks fine <b>"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "timeline-changed"
    timeline = client.get(
        _url("work-item", item), {"part": "timeline"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "looks fine &lt;b&gt;" in timeline


def test_events_endpoint_returns_only_own_team_events(
    client, reviewer, version, other_team, teammate
):
    # given a baseline, then changes on an item of each team
    mine, theirs = make_review_items(version, 2)
    WorkItem.objects.filter(pk=theirs.pk).update(team=other_team)
    client.force_login(reviewer)
    baseline = client.get(reverse("reviews:events")).json()["last_event_id"]
    work_item_claim(item_id=mine.pk, reviewer=teammate)
    work_item_reject(item_id=theirs.pk, reviewer=teammate, reason="x")
    # when
    data = client.get(reverse("reviews:events"), {"after": baseline}).json()
    # then
    assert [e["item_id"] for e in data["events"]] == [mine.pk]
    assert data["events"][0]["kind"] == "claimed"
    assert data["reset"] is False
