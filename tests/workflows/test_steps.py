"""The step engine driven in-process: drafting, policy, commit, retries, failure, retry."""

import threading
import time

import pytest
from django.db import connections, transaction
from django.utils import timezone

from tests.workflows.conftest import make_workflow, run_due_steps
from workflows.connectors.base import idempotency_key
from workflows.lifecycle import verify_chain
from workflows.models import StepRun, WorkItem
from workflows.services import work_item_intake, work_item_retry
from workflows.steps import step_run_execute, steps_sweep


def _intake(key: str, **extra):
    item, _ = work_item_intake(
        workflow="quotes", external_key=key, input={"customer": "Acme", "amount": 5, **extra}
    )
    return item


def test_auto_policy_drafts_and_commits_once(auto_version, downstream):
    # when
    item = run_due_steps(_intake("A-1"))
    # then
    assert item.status == "committed"
    assert item.current_draft.fields == {"customer": "Acme", "amount": 5}
    assert item.external_ref.startswith("ext-")
    key = idempotency_key(item_id=item.pk, step="commit")
    assert downstream.requests[key] == 1
    statuses = list(item.events.values_list("to_status", flat=True))
    assert statuses == ["received", "drafting", "drafted", "committing", "committed"]
    assert verify_chain(item.pk) == (True, None)


def test_low_confidence_goes_to_review_with_reasons(team, downstream):
    make_workflow(team, downstream.url, policy={"mode": "auto", "confidence_threshold": 0.8})
    item = run_due_steps(_intake("A-2", _confidence=0.4))
    assert item.status == "awaiting_review"
    assert item.due_at is not None
    event = item.events.get(to_status="awaiting_review")
    assert "confidence 0.40 below 0.80" in event.payload["reasons"]
    assert downstream.requests == {}


def test_rule_on_a_field_sends_to_review(team, downstream):
    rule = {"field": "amount", "op": "gt", "value": 100, "label": "amount above 100"}
    make_workflow(team, downstream.url, policy={"mode": "auto", "rules": [rule]})
    item = run_due_steps(_intake("A-3", amount=500))
    assert item.status == "awaiting_review"
    assert item.events.get(to_status="awaiting_review").payload["reasons"] == ["amount above 100"]


def test_post_commit_mode_sends_committed_items_to_validation(team, downstream):
    make_workflow(team, downstream.url, policy={"mode": "post_commit"})
    item = run_due_steps(_intake("A-4"))
    assert item.status == "awaiting_validation"
    assert item.committed_at is not None


def test_step_failing_twice_then_succeeding_commits_with_three_attempts(auto_version, downstream):
    # given a draft step that fails twice with a transient error
    item = run_due_steps(_intake("R-1", _fail_attempts=2))
    # then
    assert item.status == "committed"
    attempts = list(
        StepRun.objects.filter(item=item, step="draft")
        .order_by("attempt")
        .values_list("attempt", "state", "error_kind")
    )
    assert attempts == [
        (1, "failed", "retryable"),
        (2, "failed", "retryable"),
        (3, "succeeded", ""),
    ]


def test_fatal_error_fails_at_once(auto_version):
    item = run_due_steps(_intake("R-2", _fatal="customer record is corrupt"))
    assert item.status == "failed"
    assert item.failed_step == "draft"
    assert "customer record is corrupt" in item.last_error
    assert StepRun.objects.filter(item=item).count() == 1


def test_exhausted_retries_fail_with_the_error_kept(auto_version):
    item = run_due_steps(_intake("R-3", _fail_attempts=99))
    assert item.status == "failed"
    assert StepRun.objects.filter(item=item, step="draft").count() == 3
    assert "simulated transient failure (attempt 3)" in item.last_error


def test_retry_after_failure_recovers_and_records_time_to_recover(
    auto_version, downstream, reviewer
):
    # given an item whose commit failed: the downstream refused 3 times
    downstream.fail_next = [503, 503, 503]
    item = run_due_steps(_intake("R-4"))
    assert (item.status, item.failed_step) == ("failed", "commit")
    # when an operator retries it
    work_item_retry(item_id=item.pk, actor=reviewer)
    item = run_due_steps(item)
    # then it resumes from the commit step and records how long recovery took
    assert item.status == "committed"
    assert item.recovery_seconds is not None
    assert item.recovery_seconds > 0
    assert StepRun.objects.filter(item=item, step="draft").count() == 1
    last = StepRun.objects.filter(item=item, step="commit").order_by("-id").first()
    assert (last.round, last.attempt, last.state) == (2, 1, "succeeded")
    assert len(downstream.commits()) == 1


def test_running_a_step_twice_does_nothing_twice(auto_version, downstream):
    item = _intake("D-1")
    draft = StepRun.objects.get(item=item, step="draft")
    assert step_run_execute(step_run_id=draft.pk) == "succeeded"
    assert step_run_execute(step_run_id=draft.pk) == "skipped"  # re-delivered message
    commit = StepRun.objects.get(item=item, step="commit")
    step_run_execute(step_run_id=commit.pk)
    step_run_execute(step_run_id=commit.pk)
    item.refresh_from_db()
    assert item.status == "committed"
    assert item.drafts.count() == 1
    assert sum(downstream.requests.values()) == 1


def test_sweeper_resends_a_step_whose_lease_expired(auto_version, settings):
    # given a step claimed by a worker that died (lease in the past)
    item = _intake("S-1")
    run = StepRun.objects.get(item=item)
    with transaction.atomic():
        StepRun.objects.filter(pk=run.pk).update(
            state="running", lease_expires_at="2000-01-01T00:00:00Z",
            dispatched_at="2000-01-01T00:00:00Z",
        )  # fmt: skip
        WorkItem.objects.filter(pk=item.pk).update(status="drafting")
    # when the sweeper runs
    sent = steps_sweep()
    # then it re-sent it and a worker can take it over
    assert sent == 1
    assert step_run_execute(step_run_id=run.pk) == "succeeded"


def test_sweeper_leaves_recently_dispatched_steps_alone(auto_version):
    _intake("S-2")  # dispatched just now
    assert steps_sweep() == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_lease_was_taken_over_drops_its_result(auto_version, downstream):
    # given worker A running a slow draft step
    item = _intake("A-lease", _sleep_s=1.5)
    run = StepRun.objects.get(item=item, step="draft")
    outcomes: dict[str, str] = {}

    def worker(name: str) -> None:
        try:
            outcomes[name] = step_run_execute(step_run_id=run.pk)
        finally:
            connections.close_all()

    first = threading.Thread(target=worker, args=("A",))
    first.start()
    deadline = time.monotonic() + 10
    while StepRun.objects.get(pk=run.pk).state != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # when A's lease expires and worker B takes the run over while A is still drafting
    StepRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now())
    second = threading.Thread(target=worker, args=("B",))
    second.start()
    first.join(timeout=20)
    second.join(timeout=20)
    # then A's late result is dropped and B's is the one applied, once
    assert outcomes == {"A": "lease-lost", "B": "succeeded"}
    item.refresh_from_db()
    assert item.drafts.count() == 1
    assert item.events.filter(to_status="drafted").count() == 1
