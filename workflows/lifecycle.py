"""The work item lifecycle: one table of legal transitions and the one function that
changes an item's status, writing a hash-chained event in the same transaction.

Nothing else assigns `WorkItem.status`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from workflows.events import publish_work_item_changed
from workflows.exceptions import IllegalTransition
from workflows.models import Status, WorkItem, WorkItemEvent

S = Status

# States in which an item is still open (may be cancelled).
OPEN_STATES = frozenset(
    {
        S.RECEIVED,
        S.DRAFTING,
        S.DRAFTED,
        S.AWAITING_REVIEW,
        S.ESCALATED,
        S.REDRAFT_REQUESTED,
        S.APPROVED,
        S.FAILED,
    }
)
# States in which a step may be running, so the step may fail the item.
STEP_STATES = frozenset(
    {S.RECEIVED, S.DRAFTING, S.REDRAFT_REQUESTED, S.APPROVED, S.COMMITTING, S.AWAITING_VALIDATION}
)
TERMINAL_STATES = frozenset({S.REJECTED, S.VALIDATED, S.ROLLED_BACK, S.CANCELLED})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.DRAFTING}),
    S.DRAFTING: frozenset({S.DRAFTED}),
    S.DRAFTED: frozenset({S.AWAITING_REVIEW, S.COMMITTING}),
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.ESCALATED, S.REDRAFT_REQUESTED}),
    S.ESCALATED: frozenset({S.AWAITING_REVIEW}),
    S.REDRAFT_REQUESTED: frozenset({S.DRAFTING}),
    S.APPROVED: frozenset({S.COMMITTING}),
    S.COMMITTING: frozenset({S.COMMITTED}),
    S.COMMITTED: frozenset({S.AWAITING_VALIDATION}),
    S.AWAITING_VALIDATION: frozenset({S.VALIDATED, S.ROLLED_BACK}),
    # operator retry resumes the step that failed
    S.FAILED: frozenset({S.DRAFTING, S.COMMITTING, S.AWAITING_VALIDATION}),
}
for _state in STEP_STATES:
    TRANSITIONS[_state] = TRANSITIONS.get(_state, frozenset()) | {S.FAILED}
for _state in OPEN_STATES:
    TRANSITIONS[_state] = TRANSITIONS.get(_state, frozenset()) | {S.CANCELLED}


def is_legal(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# Stage timestamps set on entering a state (first time only where noted).
_STAMPS = {
    S.DRAFTED: "drafted_at",
    S.AWAITING_REVIEW: "review_requested_at",
    S.APPROVED: "decided_at",
    S.REJECTED: "decided_at",
    S.COMMITTED: "committed_at",
}
_CLOSING = {S.COMMITTED, S.REJECTED, S.VALIDATED, S.ROLLED_BACK, S.CANCELLED}


def _actor_label(actor: AbstractBaseUser | None, label: str | None) -> str:
    if label:
        return label
    return actor.get_username() if actor is not None else "system"


def event_hash(
    *,
    prev_hash: str,
    item_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    actor_label: str,
    from_status: str,
    to_status: str,
    payload: Any,
    created_at: str,
) -> str:
    body = json.dumps(
        [prev_hash, item_id, seq, kind, actor_id, actor_label, from_status, to_status, payload,
         created_at],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )  # fmt: skip
    return hashlib.sha256(body.encode()).hexdigest()


def _append_event(
    item: WorkItem,
    *,
    kind: str,
    from_status: str,
    to_status: str,
    actor: AbstractBaseUser | None,
    actor_label: str | None,
    payload: dict[str, Any] | None,
) -> WorkItemEvent:
    created_at = timezone.now()
    seq = item.event_count + 1
    label = _actor_label(actor, actor_label)
    # JSON round trip: the stored payload is what gets hashed, byte for byte on re-check.
    clean_payload = json.loads(json.dumps(payload or {}, default=str))
    digest = event_hash(
        prev_hash=item.last_event_hash,
        item_id=item.pk,
        seq=seq,
        kind=kind,
        actor_id=actor.pk if actor is not None else None,
        actor_label=label,
        from_status=from_status,
        to_status=to_status,
        payload=clean_payload,
        created_at=created_at.isoformat(),
    )
    event = WorkItemEvent.objects.create(
        item=item,
        seq=seq,
        kind=kind,
        actor=actor,
        actor_label=label,
        from_status=from_status,
        to_status=to_status,
        payload=clean_payload,
        created_at=created_at,
        prev_hash=item.last_event_hash,
        hash=digest,
    )
    item.event_count = seq
    item.last_event_hash = digest
    return event


def transition(
    item: WorkItem,
    *,
    to: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str | None = None,
    payload: dict[str, Any] | None = None,
    extra_update_fields: tuple[str, ...] = (),
) -> WorkItemEvent:
    """Move `item` to `to`, write its event, publish after commit.

    The caller holds the item's row lock (`select_for_update`) inside a transaction and
    may have changed other fields, named in `extra_update_fields`, saved here with it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition() must run inside a transaction holding the row lock")
    from_status = item.status
    if not is_legal(from_status, to):
        raise IllegalTransition(from_status, to)
    now = timezone.now()
    fields = {"status", "event_count", "last_event_hash", "updated_at", *extra_update_fields}
    item.status = to
    stamp = _STAMPS.get(Status(to))
    if stamp:
        setattr(item, stamp, now)
        fields.add(stamp)
    if to in _CLOSING:
        item.closed_at = now
        fields.add("closed_at")
    elif item.closed_at is not None:  # committed → awaiting_validation reopens
        item.closed_at = None
        fields.add("closed_at")
    if to == S.FAILED:
        item.failed_at = now
        fields.add("failed_at")
    event = _append_event(
        item,
        kind="transition",
        from_status=from_status,
        to_status=to,
        actor=actor,
        actor_label=actor_label,
        payload=payload,
    )
    item.save(update_fields=sorted(fields))
    publish_work_item_changed(
        item_id=item.pk, event_id=event.pk, team_id=item.team_id, status=to, kind="transition"
    )
    return event


def record_event(
    item: WorkItem,
    *,
    kind: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str | None = None,
    payload: dict[str, Any] | None = None,
    extra_update_fields: tuple[str, ...] = (),
) -> WorkItemEvent:
    """An audit event that does not change status (comment, claim, edit, created)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event() must run inside a transaction holding the row lock")
    event = _append_event(
        item,
        kind=kind,
        from_status=item.status,
        to_status=item.status,
        actor=actor,
        actor_label=actor_label,
        payload=payload,
    )
    item.save(update_fields=sorted({"event_count", "last_event_hash", "updated_at",
                                    *extra_update_fields}))  # fmt: skip
    publish_work_item_changed(
        item_id=item.pk, event_id=event.pk, team_id=item.team_id, status=item.status, kind=kind
    )
    return event


def verify_chain(item_id: int) -> tuple[bool, int | None]:
    """Recompute the item's hash chain. Returns (ok, seq of the first bad event)."""
    prev = ""
    for event in WorkItemEvent.objects.filter(item_id=item_id).order_by("seq").iterator():
        expected = event_hash(
            prev_hash=prev,
            item_id=item_id,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            from_status=event.from_status,
            to_status=event.to_status,
            payload=event.payload,
            created_at=event.created_at.isoformat(),
        )
        if event.prev_hash != prev or event.hash != expected:
            return False, event.seq
        prev = event.hash
    return True, None
