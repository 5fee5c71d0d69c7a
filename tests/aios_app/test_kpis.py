from decimal import Decimal

from django.urls import reverse

from tests.workflows.conftest import make_workflow, run_due_steps
from workflows.models import Workflow, WorkItem
from workflows.services import work_item_intake


def _item(key: str, **extra):
    item, _ = work_item_intake(
        workflow="quotes", external_key=key, input={"customer": "A", "amount": 1, **extra}
    )
    return run_due_steps(item)


def test_kpis_compute_rates_cycle_time_and_failures(client, manager, team, downstream):
    # given a workflow whose manual cycle time was one day, three automated commits,
    # one item sent to review (low confidence) and one fatal failure
    make_workflow(team, downstream.url, policy={"mode": "auto", "confidence_threshold": 0.5})
    Workflow.objects.filter(slug="quotes").update(baseline_cycle_seconds=86400)
    for i in range(3):
        _item(f"ok-{i}")
    _item("low", _confidence=0.2)
    _item("bad", _fatal="broken input")
    WorkItem.objects.filter(status="committed").update(cost_so_far=Decimal("0.01"))
    # when the manager opens the dashboard
    client.force_login(manager)
    response = client.get(reverse("kpis"))
    # then
    k = response.context["rows"][0]
    assert (k.received, k.completed, k.automated) == (5, 3, 3)
    assert k.review_rate == 1 / 4  # four drafted, one reviewed
    assert k.failures_per_1000 == 1000 / 8  # 4 drafts + 3 commits succeeded, 1 failed
    assert k.cost_per_completed == Decimal("0.01")
    assert k.cycle_speedup > 100
    assert "faster" in response.content.decode()


def test_kpis_are_for_managers_only(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("kpis")).status_code == 403


def test_kpis_query_count_does_not_grow_with_items(
    client, manager, auto_version, django_assert_max_num_queries
):
    for i in range(5):
        _item(f"q-{i}")
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        client.get(reverse("kpis") + "?days=7")
