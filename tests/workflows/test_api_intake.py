import json

import pytest
from django.utils import timezone

from aios_app.tokens import api_token_create
from workflows.models import WorkItem

URL = "/workflows/api/quotes/items"


@pytest.fixture
def token(db):
    return api_token_create(name="crm")[1]


def _post(client, token, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        URL,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_api_creates_an_item_then_returns_it_again(client, auto_version, token):
    body = {"external_key": "CRM-1", "input": {"customer": "Acme", "amount": 3}, "priority": 5}
    first = _post(client, token, body)
    again = _post(client, token, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["created"] is False
    assert WorkItem.objects.get().priority == 5


def test_api_lists_every_invalid_field_and_stores_nothing(client, auto_version, token):
    response = _post(client, token, {"external_key": "CRM-2", "input": {"amount": "lots"}})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"$", "amount"}
    assert not WorkItem.objects.exists()


def test_api_refuses_malformed_requests(client, auto_version, token):
    assert _post(client, token, "{nope").status_code == 400
    response = _post(client, token, {"external_key": 7, "input": [], "priority": "high"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"external_key", "input", "priority"}


def test_api_requires_a_live_token_in_scope(client, auto_version, db):
    body = {"external_key": "CRM-3", "input": {"customer": "A", "amount": 1}}
    assert _post(client, "wrong", body).status_code == 401
    row, scoped = api_token_create(name="other", workflows=["invoices"])
    assert _post(client, scoped, body).status_code == 403
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    assert _post(client, scoped, body).status_code == 401


def test_api_unknown_workflow_is_404(client, token):
    response = client.post(
        "/workflows/api/nope/items",
        data=json.dumps({"external_key": "x", "input": {}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 404
