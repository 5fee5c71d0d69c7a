"""The durable step engine (see docs/engine.md and ARCHITECTURE.md "Durability protocol").

A step to run is a `StepRun` row written in the same transaction as the state change that
needs it; the Celery message, sent after commit, carries only its id. A worker claims the
row under the item's row lock and takes a lease, runs the step with no transaction open,
then commits result + next state + next StepRun together. Anything lost on the way (a
message, a worker) is found again by the sweeper from the rows.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from workflows.exceptions import StepError
from workflows.lifecycle import transition
from workflows.models import Status, StepRun, Workflow, WorkflowVersion, WorkItem

log = logging.getLogger(__name__)


# --- scheduling ------------------------------------------------------------------------


def _send(step_run_id: int, queue: str) -> None:
    from workflows.tasks import step_run_execute_task

    step_run_execute_task.apply_async(args=[step_run_id], queue=queue)


def schedule_step(
    item: WorkItem,
    *,
    step: str,
    params: dict[str, Any] | None = None,
    available_at: datetime | None = None,
    attempt: int = 1,
    round: int = 1,
) -> StepRun:
    """Write the StepRun now; send its message after commit if it is due.

    A future `available_at` (backoff) is left to the sweeper: no Celery ETA/countdown.
    """
    now = timezone.now()
    due = available_at is None or available_at <= now
    run = StepRun.objects.create(
        item=item,
        step=step,
        attempt=attempt,
        round=round,
        queue=item.version.queue,
        params=params or {},
        available_at=available_at or now,
        # Optimistic: if the process dies between commit and send, the sweeper re-sends
        # rows whose dispatch is older than AIOS_REDISPATCH_SECONDS and still pending.
        dispatched_at=now if due else None,
        dispatch_count=1 if due else 0,
    )
    if due:
        transaction.on_commit(lambda: _send(run.pk, run.queue))
    return run


def backoff_seconds(policy: dict[str, Any], attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(attempt-1), capped, times U(0.5, 1)."""
    base = float(policy["backoff_s"]) * (2 ** (attempt - 1))
    return min(base, float(policy["max_backoff_s"])) * random.uniform(0.5, 1.0)


# --- running ---------------------------------------------------------------------------

# Workflow versions are immutable, so a worker keeps them in memory instead of joining and
# decoding their JSON (schemas, policies) on every claim and completion. Workflows are
# kept briefly (their slug and name are what steps read).
_versions: dict[int, WorkflowVersion] = {}
_workflows: dict[int, tuple[float, Workflow]] = {}
_WORKFLOW_TTL_S = 30.0


def _with_definition(item: WorkItem) -> WorkItem:
    version = _versions.get(item.version_id)
    if version is None:
        version = _versions[item.version_id] = WorkflowVersion.objects.get(pk=item.version_id)
    cached = _workflows.get(item.workflow_id)
    if cached is None or time.monotonic() - cached[0] > _WORKFLOW_TTL_S:
        cached = _workflows[item.workflow_id] = (
            time.monotonic(),
            Workflow.objects.get(pk=item.workflow_id),
        )
    item.version = version
    item.workflow = cached[1]
    return item


@dataclass
class Claimed:
    run: StepRun
    item: WorkItem
    lease: datetime
    claim_ms: float


def _enter_state(item: WorkItem, step: str) -> bool:
    """Move the item into the state its step runs in; False if the step is moot."""
    from workflows.step_handlers import HANDLERS

    handler = HANDLERS[step]
    if item.status in handler.runs_in:
        return True
    if item.status in handler.enters_from:
        transition(item, to=handler.runs_in[0], actor_label="system", payload={"step": step})
        return True
    return False


def _claim(step_run_id: int) -> Claimed | None:
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        # One lock order everywhere: the item, then its step runs. The item is found and
        # locked in one round trip (a subquery on the run); the ORDER BY of Meta is dropped.
        found = list(
            WorkItem.objects.select_for_update()
            .filter(pk=Subquery(StepRun.objects.filter(pk=step_run_id).values("item_id")[:1]))
            .order_by()
        )
        if not found:
            return None
        item = _with_definition(found[0])
        runs = list(
            StepRun.objects.select_for_update()
            .filter(pk=step_run_id)
            .filter(
                Q(state=StepRun.State.PENDING, available_at__lte=now)
                | Q(state=StepRun.State.RUNNING, lease_expires_at__lt=now)
            )
            .order_by()
        )
        if not runs:  # done, not yet due, or someone else holds a live lease
            return None
        run = runs[0]
        if not _enter_state(item, run.step):
            run.state = StepRun.State.CANCELLED
            run.finished_at = now
            run.error = f"item is {item.status}; step {run.step} no longer applies"
            run.save(update_fields=["state", "finished_at", "error", "updated_at"])
            return None
        lease = now + timedelta(seconds=settings.AIOS_STEP_LEASE_SECONDS)
        if run.state == StepRun.State.RUNNING:
            log.warning("step run %s: lease expired, taking over", run.pk)
        run.state = StepRun.State.RUNNING
        run.lease_expires_at = lease
        run.started_at = now
        run.save(update_fields=["state", "lease_expires_at", "started_at", "updated_at"])
    return Claimed(run=run, item=item, lease=lease, claim_ms=(time.perf_counter() - started) * 1e3)


def _lock_if_still_ours(claimed: Claimed) -> WorkItem | None:
    """Lock the item, then check that our lease on the run still holds.

    Two statements on purpose: under READ COMMITTED a check folded into the item's
    `SELECT … FOR UPDATE` (an EXISTS on the run) is evaluated from the snapshot taken
    before waiting for the lock, so a takeover committed meanwhile would go unseen. The
    run is read after the item lock is held (and whoever takes a run over locks its item
    first), so what it says stays true until we commit.
    """
    item = _with_definition(WorkItem.objects.select_for_update().order_by().get(pk=claimed.item.pk))
    still_ours = StepRun.objects.filter(
        pk=claimed.run.pk, state=StepRun.State.RUNNING, lease_expires_at=claimed.lease
    ).exists()
    return item if still_ours else None


def _mark_recovered(item: WorkItem, run: StepRun, now: datetime) -> tuple[str, ...]:
    if (
        run.round > 1
        and item.failed_at
        and (item.recovered_at is None or item.recovered_at < item.failed_at)
    ):
        item.recovered_at = now
        item.recovery_seconds = (now - item.failed_at).total_seconds()
        return ("recovered_at", "recovery_seconds")
    return ()


def step_run_execute(*, step_run_id: int) -> str:
    """Claim, run and complete one StepRun. Safe to call any number of times."""
    from workflows.step_handlers import HANDLERS

    claimed = _claim(step_run_id)
    if claimed is None:
        return "skipped"
    handler = HANDLERS[claimed.run.step]
    run_started = time.perf_counter()
    try:
        result = handler.execute(claimed.item, claimed.run)
        error: BaseException | None = None
    except Exception as exc:  # every failure is recorded; retryable or not decides what next
        result, error = None, exc
    run_ms = (time.perf_counter() - run_started) * 1e3
    complete_started = time.perf_counter()
    with transaction.atomic():
        item = _lock_if_still_ours(claimed)
        if item is None:
            log.warning("step run %s: lease lost before completion; result dropped", step_run_id)
            return "lease-lost"
        run = claimed.run
        run.finished_at = timezone.now()
        run.run_ms = run_ms
        if error is None:
            extra = _mark_recovered(item, run, run.finished_at)
            if extra:
                item.save(update_fields=[*extra, "updated_at"])
            handler.apply(item, run, result)
            run.state = StepRun.State.SUCCEEDED
            _save_finished(run, claimed, complete_started)
            return "succeeded"
        return _record_failure(item, run, error, claimed, complete_started)


def _save_finished(run: StepRun, claimed: Claimed, complete_started: float) -> None:
    run.overhead_ms = claimed.claim_ms + (time.perf_counter() - complete_started) * 1e3
    run.save(
        update_fields=[
            "state", "finished_at", "run_ms", "overhead_ms", "error", "error_kind", "updated_at",
        ]
    )  # fmt: skip


def _record_failure(
    item: WorkItem, run: StepRun, error: BaseException, claimed: Claimed, complete_started: float
) -> str:
    retryable = error.retryable if isinstance(error, StepError) else True
    run.state = StepRun.State.FAILED
    run.error = f"{type(error).__name__}: {error}"[:4000]
    run.error_kind = "retryable" if retryable else "fatal"
    # Saved first: that frees the one-live-run-per-step slot for the next attempt (so a
    # failed run's overhead_ms stops before the retry is scheduled).
    _save_finished(run, claimed, complete_started)
    policy = item.version.step_policy(run.step)
    if retryable and run.attempt < int(policy["max_attempts"]):
        delay = backoff_seconds(policy, run.attempt)
        schedule_step(
            item,
            step=run.step,
            params=run.params,
            attempt=run.attempt + 1,
            round=run.round,
            available_at=timezone.now() + timedelta(seconds=delay),
        )
        log.info("step run %s failed (%s); retry in %.2fs", run.pk, run.error, delay)
        return "retry-scheduled"
    item.failed_step = run.step
    item.last_error = run.error
    transition(
        item,
        to=Status.FAILED,
        actor_label="system",
        payload={"step": run.step, "attempts": run.attempt, "error": run.error},
        extra_update_fields=("failed_step", "last_error"),
    )
    return "failed"


# --- sweeping --------------------------------------------------------------------------


def steps_sweep(*, limit: int = 1000) -> int:
    """Re-send steps that are due but whose message may be lost, and steps whose lease
    expired (worker died). Duplicates are harmless: claiming is conditional."""
    now = timezone.now()
    stale_dispatch = now - timedelta(seconds=settings.AIOS_REDISPATCH_SECONDS)
    due = Q(state=StepRun.State.PENDING, available_at__lte=now) | Q(
        state=StepRun.State.RUNNING, lease_expires_at__lt=now
    )
    not_recently_sent = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale_dispatch)
    # Pending rows never sent (backoff elapsed) go at once; others after the stale window.
    rows = list(
        StepRun.objects.filter(due & not_recently_sent)
        .order_by("available_at")
        .values_list("pk", "queue")[:limit]
    )
    if not rows:
        return 0
    StepRun.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        dispatched_at=now, dispatch_count=F("dispatch_count") + 1
    )
    for pk, queue in rows:
        _send(pk, queue)
    return len(rows)
