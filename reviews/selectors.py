"""Reads for the reviewer workspace: queues (keyset pagination on the wi_queue_* indexes),
counts, the next item, an item's detail, events since an id, notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aios_app.models import Team
from reviews.models import Notification
from workflows.models import Status, Workflow, WorkItem, WorkItemEvent

S = Status
QUEUE_STATUSES = (S.AWAITING_REVIEW, S.AWAITING_VALIDATION)


@dataclass(frozen=True)
class Sort:
    label: str
    field: str
    descending: bool
    nullable: bool


# Every sort is (key, id ascending) and served by the index wi_queue_<key> on
# (team, status, key, id): each keyset part below is one range scan of it.
SORTS: dict[str, Sort] = {
    "priority": Sort("Priority", "priority", True, False),
    "due": Sort("SLA due", "due_at", False, True),
    "confidence": Sort("Least confident", "confidence", False, True),
    "-confidence": Sort("Most confident", "confidence", True, True),
    "age": Sort("Oldest", "created_at", False, False),
}


def user_teams(user: AbstractBaseUser) -> list[Team]:
    return list(Team.objects.filter(members=user).order_by("name"))


def user_team_ids(user: AbstractBaseUser) -> set[int]:
    return set(Team.objects.filter(members=user).values_list("pk", flat=True))


@dataclass
class QueueParams:
    team_id: int
    status: str = S.AWAITING_REVIEW
    sort: str = "priority"
    workflow_id: int | None = None
    assignee: str = ""  # "" anyone, "me", "none" (unclaimed), or a user id
    after: str = ""
    size: int = 50


@dataclass
class QueuePage:
    items: list[QueueRow]
    next_cursor: str = ""
    params: QueueParams | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def cursor_for(item: Any, sort: str) -> str:
    spec = SORTS[sort]
    return f"{_encode(getattr(item, spec.field))}~{item.pk}"


def _decode(cursor: str, spec: Sort) -> tuple[Any, int] | None:
    raw, sep, pk = cursor.rpartition("~")
    if not sep or not pk.isdigit():
        return None
    if raw == "":
        return None, int(pk)
    try:
        if spec.field in ("due_at", "created_at"):
            value: Any = parse_datetime(raw)
            if value is None:
                return None
        elif spec.field == "priority":
            value = int(raw)
        else:
            value = float(raw)
    except ValueError:
        return None
    return value, int(pk)


def _base(params: QueueParams, user: AbstractBaseUser) -> QuerySet[WorkItem]:
    qs = WorkItem.objects.filter(team_id=params.team_id, status=params.status)
    if params.workflow_id:
        qs = qs.filter(workflow_id=params.workflow_id)
    if params.assignee == "me":
        qs = qs.filter(claimed_by=user, claim_expires_at__gt=timezone.now())
    elif params.assignee == "none":
        qs = qs.filter(Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=timezone.now()))
    elif params.assignee.isdigit():
        qs = qs.filter(claimed_by_id=int(params.assignee), claim_expires_at__gt=timezone.now())
    return qs


def _keyset_ids(
    qs: QuerySet[WorkItem], spec: Sort, after: str, limit: int
) -> list[tuple[int, Any]]:
    """(id, key) of the next `limit` rows after the cursor, in queue order.

    Order is (key, id) with NULL keys last; rows equal on the key continue by id. The
    page is the UNION ALL of at most three index range scans (same key / beyond the
    key / NULL keys), each LIMITed, so its cost does not depend on how deep it is."""
    key = spec.field
    ordered = F(key).desc() if spec.descending else F(key).asc()
    beyond = f"{key}__lt" if spec.descending else f"{key}__gt"
    cursor = _decode(after, spec) if after else None
    parts: list[QuerySet[Any]] = []
    if cursor is None:
        parts.append(qs.filter(**{f"{key}__isnull": False}).order_by(ordered, "id"))
        if spec.nullable:
            parts.append(qs.filter(**{f"{key}__isnull": True}).order_by("id"))
    elif cursor[0] is None:
        parts.append(qs.filter(**{f"{key}__isnull": True, "id__gt": cursor[1]}).order_by("id"))
    else:
        value, pk = cursor
        parts.append(qs.filter(**{key: value, "id__gt": pk}).order_by("id"))
        parts.append(qs.filter(**{beyond: value}).order_by(ordered, "id"))
        if spec.nullable:
            parts.append(qs.filter(**{f"{key}__isnull": True}).order_by("id"))
    sliced = [p.values_list("id", key)[:limit] for p in parts]
    combined = sliced[0].union(*sliced[1:], all=True) if len(sliced) > 1 else sliced[0]
    rows = list(combined)

    def order(row: tuple[int, Any]) -> tuple[Any, ...]:
        pk, value = row
        if value is None:
            return (1, 0, pk)
        # descending sorts are numeric (priority, confidence): negate to reverse them
        return (0, -value if spec.descending else value, pk)

    rows.sort(key=order)
    return rows[:limit]


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What one queue row shows, formatted here: a page of rows renders without model
    instances, lazy relations or per-cell template filters (the row template is hot)."""

    pk: int
    ref: str  # the id as text: an int in a template goes through number localisation
    external_key: str
    workflow_name: str
    priority: int
    priority_label: str
    confidence: float | None
    due_at: datetime | None
    created_at: datetime
    claimed_by_id: int | None
    claimed_by_name: str
    claim_live: bool
    overdue: bool
    confidence_label: str
    due_iso: str
    due_label: str  # absolute, local time (the cell's tooltip)
    due_relative: str  # "in 40 min" / "12 min overdue" (the cell)
    created_iso: str
    created_label: str
    age_label: str  # "3 h"


_ROW_FIELDS = (
    "pk", "external_key", "workflow__name", "priority", "confidence", "due_at", "created_at",
    "claimed_by_id", "claimed_by__username", "claim_expires_at",
)  # fmt: skip


def _short(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{local:%b} {local.day} {local:%H:%M}"


def span_label(seconds: float) -> str:
    """A short duration for a busy table: "<1 min", "12 min", "3 h", "2 d"."""
    seconds = abs(seconds)
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _due_relative(due: datetime, now: datetime) -> str:
    left = (due - now).total_seconds()
    return f"in {span_label(left)}" if left >= 0 else f"{span_label(left)} overdue"


def _queue_row(values: tuple[Any, ...], now: datetime) -> QueueRow:
    pk, key, workflow, priority, confidence, due, created, claimer, name, expires = values
    return QueueRow(
        pk=pk,
        ref=str(pk),
        external_key=key,
        workflow_name=workflow,
        priority=priority,
        priority_label=str(priority),
        confidence=confidence,
        due_at=due,
        created_at=created,
        claimed_by_id=claimer,
        claimed_by_name=name or "",
        claim_live=bool(claimer and expires and expires > now),
        overdue=bool(due and due < now),
        confidence_label="" if confidence is None else f"{confidence:.2f}",
        due_iso=due.isoformat() if due else "",
        due_label=_short(due) if due else "",
        due_relative=_due_relative(due, now) if due else "",
        created_iso=created.isoformat(),
        created_label=_short(created),
        age_label=span_label((now - created).total_seconds()),
    )


def queue_page(user: AbstractBaseUser, params: QueueParams) -> QueuePage:
    """One page of a queue: 2 queries whatever the page size (ids, then rows)."""
    spec = SORTS.get(params.sort) or SORTS["priority"]
    rows = _keyset_ids(_base(params, user), spec, params.after, params.size + 1)
    ids = [pk for pk, _ in rows[: params.size]]
    now = timezone.now()
    by_id = {
        values[0]: _queue_row(values, now)
        for values in WorkItem.objects.filter(pk__in=ids).order_by().values_list(*_ROW_FIELDS)
    }
    items = [by_id[pk] for pk in ids if pk in by_id]
    next_cursor = cursor_for(items[-1], params.sort) if len(rows) > params.size and items else ""
    return QueuePage(items=items, next_cursor=next_cursor, params=params)


def next_item_id(
    user: AbstractBaseUser, params: QueueParams, *, after_item: WorkItem | None = None
) -> int | None:
    """The next item for this reviewer in the queue's order: not held by someone else,
    after `after_item` when given (j on the item page), else from the top."""
    spec = SORTS.get(params.sort) or SORTS["priority"]
    now = timezone.now()
    qs = _base(params, user).filter(
        Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claim_expires_at__lte=now)
    )
    after = cursor_for(after_item, params.sort) if after_item is not None else ""
    if after_item is not None:
        qs = qs.exclude(pk=after_item.pk)
    rows = _keyset_ids(qs, spec, after, 1)
    return rows[0][0] if rows else None


def queue_counts(team_ids: set[int]) -> dict[tuple[int, str], int]:
    """Items per (team, status) queue, in one aggregate query."""
    rows = (
        WorkItem.objects.filter(team_id__in=team_ids, status__in=QUEUE_STATUSES)
        .values_list("team_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(team_id, status): n for team_id, status, n in rows}


def workflows_for_teams(team_ids: set[int]) -> list[Workflow]:
    return list(
        Workflow.objects.filter(versions__reviewing_team_id__in=team_ids)
        .distinct()
        .order_by("name")
    )


def item_for_reviewer(item_id: int, team_ids: set[int]) -> WorkItem | None:
    """The item with what its page shows, or None when it is not one of the teams'."""
    return (
        WorkItem.objects.filter(pk=item_id, team_id__in=team_ids)
        .select_related(
            "workflow",
            "version",
            "version__escalation_team",
            "team",
            "claimed_by",
            "current_draft",
            "current_draft__author",
        )
        .first()
    )


def item_for_decision(item_id: int, team_ids: set[int]) -> WorkItem | None:
    """The item with what a decision reads (its schema and draft), or None when it is not
    one of the teams'. Two joins, not the page's seven: planning those costs milliseconds."""
    found = list(
        WorkItem.objects.filter(pk=item_id, team_id__in=team_ids)
        .select_related("version", "current_draft")
        .order_by()[:1]
    )
    return found[0] if found else None


def item_timeline(item: WorkItem) -> list[WorkItemEvent]:
    return list(item.events.order_by("seq"))


def item_comments(item: WorkItem) -> list[Any]:
    return list(item.comments.select_related("author").prefetch_related("mentions"))


def item_model_calls(item: WorkItem) -> list[Any]:
    """The model calls behind the item's drafts (tokens, cost, latency)."""
    try:
        from workflows.llm.models import ModelCall
    except ImportError:  # pragma: no cover - the model plane is optional here
        return []
    ids: set[int] = set()
    draft = item.current_draft
    if draft is not None:
        ids.update(int(i) for i in draft.model_call_ids or [])
    return list(
        ModelCall.objects.filter(Q(work_item_id=item.pk) | Q(pk__in=ids)).order_by("id")[:50]
    )


def item_diffs(events: list[WorkItemEvent]) -> list[dict[str, Any]]:
    """Edited approvals in the timeline, each with its per-field diff."""
    return [
        {"event": e, "diff": e.payload.get("diff", {})}
        for e in events
        if e.to_status == S.APPROVED and e.payload.get("diff")
    ]


def last_event_id() -> int:
    return WorkItemEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(team_ids: set[int], after: int, *, limit: int = 200) -> dict[str, Any]:
    """Events of the teams' items after event id `after` (the resync endpoint).

    `reset` tells the client to re-fetch everything (too far behind, or more than
    `limit` events)."""
    last = last_event_id()
    if after < 0 or last - after > 50_000:  # too far behind: re-fetch everything
        return {"events": [], "last_event_id": last, "reset": True}
    rows = list(
        WorkItemEvent.objects.filter(pk__gt=after, item__team_id__in=team_ids)
        .order_by("pk")
        .values_list("pk", "item_id", "to_status", "kind", "item__team_id")[: limit + 1]
    )
    events = [
        {"event_id": pk, "item_id": item_id, "status": status, "kind": kind, "team_id": team}
        for pk, item_id, status, kind, team in rows[:limit]
    ]
    return {"events": events, "last_event_id": last, "reset": len(rows) > limit}


def notifications_for(user: AbstractBaseUser, *, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(user=user).select_related("item")[:limit])


def unread_notification_count(user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
