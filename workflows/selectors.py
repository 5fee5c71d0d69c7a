"""Control-plane reads for the admin and audit pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from workflows.lifecycle import verify_chain
from workflows.models import StepRun, Workflow, WorkItem, WorkItemEvent


@dataclass
class WorkflowRow:
    workflow: Workflow
    version_number: int | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def workflow_rows() -> list[WorkflowRow]:
    """Every workflow with its latest version number and item counts per status (3 queries)."""
    workflows = list(Workflow.objects.annotate(n_versions=Count("versions")).order_by("name"))
    latest: dict[int, int] = {}
    for wf_id, number in Workflow.objects.values_list("pk", "versions__number"):
        if number is not None:
            latest[wf_id] = max(latest.get(wf_id, 0), number)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in WorkItem.objects.values("workflow_id", "status").annotate(n=Count("id")):
        counts[row["workflow_id"]][row["status"]] = row["n"]
    return [WorkflowRow(wf, latest.get(wf.pk), counts.get(wf.pk, {})) for wf in workflows]


def work_items_page(
    *, workflow: Workflow, status: str | None, before_id: int | None, size: int = 50
) -> tuple[list[WorkItem], int | None]:
    """Newest first, keyset-paginated on id. Returns the page and the next cursor."""
    qs: QuerySet[WorkItem] = WorkItem.objects.filter(workflow=workflow).select_related(
        "team", "version"
    )
    if status:
        qs = qs.filter(status=status)
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    items = list(qs.order_by("-pk")[: size + 1])
    next_cursor = items[size - 1].pk if len(items) > size else None
    return items[:size], next_cursor


@dataclass
class ItemDetail:
    item: WorkItem
    events: list[WorkItemEvent]
    step_runs: list[StepRun]
    chain_ok: bool
    chain_broken_at: int | None


def work_item_detail(item_id: int) -> ItemDetail:
    item = WorkItem.objects.select_related(
        "workflow", "version", "team", "current_draft", "claimed_by"
    ).get(pk=item_id)
    events = list(item.events.select_related("actor").order_by("seq"))
    runs = list(item.step_runs.order_by("id"))
    ok, broken = verify_chain(item.pk)
    return ItemDetail(item, events, runs, ok, broken)


def audit_events(
    *,
    workflow_slug: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
) -> QuerySet[WorkItemEvent]:
    """Events newest first; keyset pagination on id (the caller slices)."""
    qs = WorkItemEvent.objects.select_related("item__workflow").order_by("-pk")
    if workflow_slug:
        qs = qs.filter(item__workflow__slug=workflow_slug)
    if actor:
        qs = qs.filter(actor_label=actor)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    return qs


def audit_export_rows(qs: QuerySet[WorkItemEvent]) -> Iterator[dict[str, Any]]:
    """Oldest first, streamed: one dict per event with everything needed to re-verify."""
    for event in qs.order_by("pk").iterator(chunk_size=2000):
        yield {
            "id": event.pk,
            "item_id": event.item_id,
            "workflow": event.item.workflow.slug,
            "seq": event.seq,
            "kind": event.kind,
            "actor_id": event.actor_id,
            "actor": event.actor_label,
            "from": event.from_status,
            "to": event.to_status,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }
