import json

import pytest
from django.urls import reverse

from tests.workflows.conftest import run_due_steps
from workflows.models import WorkflowVersion, WorkItem
from workflows.services import work_item_intake


@pytest.fixture
def failed_item(auto_version, downstream):
    downstream.fail_next = [500, 500, 500]
    item, _ = work_item_intake(
        workflow="quotes", external_key="F-1", input={"customer": "<script>x</script>", "amount": 1}
    )
    return run_due_steps(item)


def test_workflow_list_shows_counts_for_admins(client, workflow_admin, failed_item):
    client.force_login(workflow_admin)
    html = client.get(reverse("workflows:workflow-list")).content.decode()
    assert "Quotes" in html
    assert "1 failed" in html


def test_workflow_pages_refuse_reviewers_and_anonymous(client, reviewer, auto_version):
    url = reverse("workflows:workflow-detail", args=["quotes"])
    assert client.get(url).status_code == 302
    client.force_login(reviewer)
    assert client.get(url).status_code == 403


def test_detail_filters_items_by_status(client, workflow_admin, failed_item):
    client.force_login(workflow_admin)
    url = reverse("workflows:workflow-detail", args=["quotes"])
    assert "F-1" in client.get(url + "?status=failed").content.decode()
    assert "F-1" not in client.get(url + "?status=committed").content.decode()


def test_new_version_is_saved_and_old_version_kept(client, workflow_admin, auto_version):
    client.force_login(workflow_admin)
    data = {
        "agent": "echo",
        "reviewing_team": auto_version.reviewing_team_id,
        "queue": "central",
        "sla_seconds": 3600,
        "review_policy": json.dumps({"mode": "pre_commit"}),
        "input_schema": "{}",
        "draft_schema": "{}",
        "connector": json.dumps({"kind": "demo_sink"}),
        "steps": "{}",
        "routes": "{}",
    }
    response = client.post(reverse("workflows:workflow-detail", args=["quotes"]), data)
    assert response.status_code == 302
    numbers = list(WorkflowVersion.objects.values_list("number", "review_policy"))
    assert sorted(n for n, _ in numbers) == [1, 2]


def test_bad_version_input_is_refused_with_reasons(client, workflow_admin, auto_version):
    client.force_login(workflow_admin)
    data = {
        "agent": "echo",
        "reviewing_team": auto_version.reviewing_team_id,
        "queue": "central",
        "sla_seconds": 3600,
        "review_policy": '{"mode": "sometimes"}',
        "input_schema": "{not json",
    }
    response = client.post(reverse("workflows:workflow-detail", args=["quotes"]), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "not valid JSON" in html
    assert WorkflowVersion.objects.count() == 1
    # and once the JSON parses, the policy itself is checked
    data["input_schema"] = "{}"
    html = client.post(reverse("workflows:workflow-detail", args=["quotes"]), data).content.decode()
    assert "must be one of" in html
    assert WorkflowVersion.objects.count() == 1


def test_operator_retries_a_failed_item(client, workflow_admin, failed_item, downstream):
    client.force_login(workflow_admin)
    response = client.post(reverse("workflows:work-item-retry", args=[failed_item.pk]))
    assert response.status_code == 302
    item = run_due_steps(WorkItem.objects.get(pk=failed_item.pk))
    assert item.status == "committed"


def test_retry_refuses_get_and_reviewers(client, reviewer, failed_item):
    url = reverse("workflows:work-item-retry", args=[failed_item.pk])
    client.force_login(reviewer)
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405


def test_item_detail_shows_input_inert_and_chain_state(client, auditor, failed_item):
    client.force_login(auditor)
    html = client.get(reverse("workflows:work-item-detail", args=[failed_item.pk])).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" not in html
    assert "hash chain verified" in html
    assert "Retry from" not in html  # auditors read, they do not operate


def test_cancel_needs_a_reason(client, workflow_admin, failed_item):
    client.force_login(workflow_admin)
    url = reverse("workflows:work-item-cancel", args=[failed_item.pk])
    client.post(url, {"reason": ""})
    assert WorkItem.objects.get(pk=failed_item.pk).status == "failed"
    client.post(url, {"reason": "duplicate request"})
    assert WorkItem.objects.get(pk=failed_item.pk).status == "cancelled"


def test_audit_log_and_export_for_auditors(client, auditor, reviewer, failed_item):
    client.force_login(reviewer)
    assert client.get(reverse("workflows:audit-export")).status_code == 403
    client.force_login(auditor)
    html = client.get(reverse("workflows:audit-log")).content.decode()
    assert f"#{failed_item.pk}" in html
    response = client.get(reverse("workflows:audit-export") + "?workflow=quotes")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    csv_response = client.get(reverse("workflows:audit-export") + "?format=csv")
    text = b"".join(csv_response.streaming_content).decode()
    assert text.splitlines()[0].startswith("id,item_id,workflow,seq")


def test_audit_log_query_count_is_constant(
    client, auditor, failed_item, django_assert_max_num_queries
):
    client.force_login(auditor)
    with django_assert_max_num_queries(6):
        client.get(reverse("workflows:audit-log"))
