"""KPI selectors for managers: does automation pay off? Aggregates in SQL, one query per
metric family grouped by workflow, so the page costs the same for 1 k or 1 M items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from workflows.models import Workflow

# Completed = committed downstream and not rolled back (validation may still be pending).
COMPLETED = ["committed", "validated", "awaiting_validation"]


@dataclass
class WorkflowKpis:
    workflow: Workflow
    received: int = 0
    completed: int = 0
    automated: int = 0  # completed with no human review before commit
    reviewed: int = 0
    drafted: int = 0
    cycle_p50_s: float | None = None
    cycle_p90_s: float | None = None
    review_p50_s: float | None = None
    reviews_timed: int = 0
    step_runs: int = 0
    step_failures: int = 0
    items_failed: int = 0
    recover_p50_s: float | None = None
    cost_completed: Decimal = Decimal("0")
    rolled_back: int = 0
    confidence_recent: float | None = None
    confidence_before: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def baseline_s(self) -> int | None:
        return self.workflow.baseline_cycle_seconds

    @property
    def cycle_speedup(self) -> float | None:
        if self.baseline_s and self.cycle_p50_s:
            return self.baseline_s / self.cycle_p50_s
        return None

    @property
    def review_rate(self) -> float | None:
        return self.reviewed / self.drafted if self.drafted else None

    @property
    def automation_rate(self) -> float | None:
        return self.automated / self.completed if self.completed else None

    @property
    def failures_per_1000(self) -> float | None:
        return 1000 * self.step_failures / self.step_runs if self.step_runs else None

    @property
    def cost_per_completed(self) -> Decimal | None:
        return (self.cost_completed / self.completed) if self.completed else None

    @property
    def confidence_drift(self) -> float | None:
        if self.confidence_recent is None or self.confidence_before is None:
            return None
        return self.confidence_recent - self.confidence_before


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def workflow_kpis(*, days: int = 30) -> list[WorkflowKpis]:
    now = timezone.now()
    since = now - timedelta(days=days)
    workflows = list(Workflow.objects.order_by("name"))
    by_id = {w.pk: WorkflowKpis(w) for w in workflows}

    for wf, received, drafted, reviewed, failed in _rows(
        """SELECT workflow_id, count(*), count(drafted_at), count(review_requested_at),
                  count(*) FILTER (WHERE status = 'failed')
           FROM workflows_workitem WHERE created_at >= %s GROUP BY workflow_id""",
        [since],
    ):
        k = by_id[wf]
        k.received, k.drafted, k.reviewed, k.items_failed = received, drafted, reviewed, failed

    for wf, completed, automated, p50, p90, cost, rolled in _rows(
        """SELECT workflow_id,
                  count(*) FILTER (WHERE status = ANY(%s)),
                  count(*) FILTER (WHERE status = ANY(%s) AND review_requested_at IS NULL),
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM committed_at - created_at)),
                  percentile_cont(0.9) WITHIN GROUP (
                      ORDER BY extract(epoch FROM committed_at - created_at)),
                  coalesce(sum(cost_so_far) FILTER (WHERE status = ANY(%s)), 0),
                  count(*) FILTER (WHERE status = 'rolled_back')
           FROM workflows_workitem
           WHERE committed_at >= %s GROUP BY workflow_id""",
        [COMPLETED, COMPLETED, COMPLETED, since],
    ):
        k = by_id[wf]
        k.completed, k.automated, k.rolled_back = completed, automated, rolled
        k.cycle_p50_s, k.cycle_p90_s, k.cost_completed = p50, p90, Decimal(cost)

    for wf, runs, failures in _rows(
        """SELECT i.workflow_id, count(*), count(*) FILTER (WHERE s.state = 'failed')
           FROM workflows_steprun s JOIN workflows_workitem i ON i.id = s.item_id
           WHERE s.finished_at >= %s AND s.state IN ('succeeded', 'failed')
           GROUP BY i.workflow_id""",
        [since],
    ):
        by_id[wf].step_runs, by_id[wf].step_failures = runs, failures

    for wf, p50 in _rows(
        """SELECT workflow_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY recovery_seconds)
           FROM workflows_workitem WHERE recovered_at >= %s GROUP BY workflow_id""",
        [since],
    ):
        by_id[wf].recover_p50_s = p50

    for wf, n, p50 in _rows(
        """SELECT i.workflow_id, count(*),
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY r.active_seconds)
           FROM reviews_reviewsession r JOIN workflows_workitem i ON i.id = r.item_id
           WHERE r.decided_at >= %s GROUP BY i.workflow_id""",
        [since],
    ):
        by_id[wf].reviews_timed, by_id[wf].review_p50_s = n, p50

    recent = now - timedelta(days=7)
    for wf, conf_recent, conf_before in _rows(
        """SELECT i.workflow_id,
                  avg(d.confidence) FILTER (WHERE d.created_at >= %s),
                  avg(d.confidence) FILTER (WHERE d.created_at < %s)
           FROM workflows_draft d JOIN workflows_workitem i ON i.id = d.item_id
           WHERE d.author_kind = 'agent' AND d.created_at >= %s
           GROUP BY i.workflow_id""",
        [recent, recent, recent - timedelta(days=30)],
    ):
        by_id[wf].confidence_recent, by_id[wf].confidence_before = conf_recent, conf_before
    return [by_id[w.pk] for w in workflows]
