import json

import pytest

from workflows.connectors.models import DemoSinkRecord
from workflows.connectors.services import demo_sink_token

URL = "/connectors/demo-sink/commit"


def _post(client, *, key="k1", token=None, body=None):
    return client.post(
        URL,
        data=json.dumps(body if body is not None else {"item_id": 7, "payload": {"a": 1}}),
        content_type="application/json",
        headers={"Idempotency-Key": key, "X-Aios-Sink-Token": token or demo_sink_token()},
    )


@pytest.fixture(autouse=True)
def sink_enabled(settings):
    settings.AIOS_DEMO_SINK_ENABLED = True


def test_repeated_key_is_applied_once_and_answers_the_same(client, db):
    first = _post(client)
    again = _post(client)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    record = DemoSinkRecord.objects.get()
    assert (record.item_id, record.repeats) == (7, 1)


def test_wrong_token_is_refused(client, db):
    assert _post(client, token="nope").status_code == 403
    assert not DemoSinkRecord.objects.exists()


def test_malformed_body_is_refused_with_a_reason(client, db):
    response = _post(client, body={"payload": {}})
    assert response.status_code == 400
    assert "item_id" in response.json()["error"]


def test_missing_key_is_refused(client, db):
    assert _post(client, key="").status_code == 400


def test_disabled_sink_does_not_exist(client, db, settings):
    settings.AIOS_DEMO_SINK_ENABLED = False
    assert _post(client).status_code == 404


def test_sink_page_is_for_workflow_admins(client, workflow_admin, reviewer):
    _post(client, body={"item_id": 9, "payload": {"note": "<script>alert(1)</script>"}})
    client.force_login(reviewer)
    assert client.get("/connectors/demo-sink/").status_code == 403
    client.force_login(workflow_admin)
    html = client.get("/connectors/demo-sink/").content.decode()
    assert "#9" in html
    assert "<script>alert(1)" not in html
