"""Reviewer actions. Each is one transaction: lock the item row, check, change through
`workflows.lifecycle` (which writes the event and publishes after commit), schedule any
step (sent after commit).

Callers (views, tasks) have checked that the user may review the item's team; bulk
approve re-checks per item because it takes a list of ids from the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from aios_app.models import Team
from reviews.exceptions import AlreadyDecided, ClaimedByOther, InvalidInput
from reviews.models import Comment, Notification, ReviewSession, SlaBreach
from workflows.lifecycle import record_event, transition
from workflows.models import Draft, Status, StepRun, WorkItem
from workflows.schemas import schema_errors
from workflows.steps import schedule_step

S = Status
# States in which an item waits for a person (and so can be claimed).
CLAIMABLE = frozenset({S.AWAITING_REVIEW, S.AWAITING_VALIDATION})
MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


# --- helpers ---------------------------------------------------------------------------


def _lock(item_id: int) -> WorkItem:
    return (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("version", "current_draft", "claimed_by")
        .get(pk=item_id)
    )


def _claimed_by_other(item: WorkItem, user: AbstractBaseUser, now: datetime) -> bool:
    return (
        item.claimed_by_id is not None
        and item.claimed_by_id != user.pk
        and item.claim_expires_at is not None
        and item.claim_expires_at > now
    )


def _require(item: WorkItem, reviewer: AbstractBaseUser, allowed: frozenset[str]) -> datetime:
    """Refuse an action on an item that is no longer waiting, or that someone else holds."""
    now = timezone.now()
    if item.status not in allowed:
        last = item.events.order_by("-seq").only("actor_label").first()
        who = f" by {last.actor_label}" if last else ""
        raise AlreadyDecided(f"This item is already {item.get_status_display().lower()}{who}.")
    if _claimed_by_other(item, reviewer, now):
        raise ClaimedByOther(item.claimed_by.get_username())
    return now


def _clear_claim(item: WorkItem) -> tuple[str, ...]:
    if item.claimed_by_id is None and item.claim_expires_at is None:
        return ()
    item.claimed_by = None
    item.claim_expires_at = None
    return ("claimed_by", "claim_expires_at")


def _add_activity(session: ReviewSession, now: datetime) -> None:
    gap = (now - session.last_activity_at).total_seconds()
    if 0 < gap <= settings.AIOS_REVIEW_IDLE_SECONDS:
        session.active_seconds += gap
    session.last_activity_at = max(now, session.last_activity_at)


def _session_touch(item: WorkItem, reviewer: AbstractBaseUser, now: datetime) -> ReviewSession:
    session = (
        ReviewSession.objects.select_for_update()
        .filter(item=item, reviewer=reviewer, decided_at__isnull=True)
        .order_by("-opened_at")
        .first()
    )
    if session is None:
        return ReviewSession.objects.create(
            item=item, reviewer=reviewer, opened_at=now, last_activity_at=now
        )
    _add_activity(session, now)
    session.save(update_fields=["active_seconds", "last_activity_at", "updated_at"])
    return session


def _session_close(
    item: WorkItem, reviewer: AbstractBaseUser, now: datetime, decision: str
) -> float | None:
    """Close the reviewer's open session on this item; its active time in seconds."""
    session = (
        ReviewSession.objects.select_for_update()
        .filter(item=item, reviewer=reviewer, decided_at__isnull=True)
        .order_by("-opened_at")
        .first()
    )
    if session is None:
        return None
    _add_activity(session, now)
    session.decided_at = now
    session.decision = decision
    session.save(
        update_fields=["active_seconds", "last_activity_at", "decided_at", "decision", "updated_at"]
    )
    return round(session.active_seconds, 1)


def draft_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per changed field: {"before": …, "after": …} (absent values are None)."""
    diff: dict[str, dict[str, Any]] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        if old != new or (key in before) != (key in after):
            diff[key] = {"before": old, "after": new}
    return diff


def _notify(users: list[Any], *, kind: str, item: WorkItem, message: str) -> None:
    Notification.objects.bulk_create(
        Notification(user=u, kind=kind, item=item, message=message[:300]) for u in users
    )


# --- claims ----------------------------------------------------------------------------


@transaction.atomic
def work_item_claim(
    *, item_id: int, reviewer: AbstractBaseUser, seconds: int | None = None
) -> WorkItem:
    """Claim an item for `seconds` (AIOS_CLAIM_SECONDS). Re-claiming one's own claim
    extends it without a new event. An item no longer waiting is returned unclaimed."""
    item = _lock(item_id)
    now = timezone.now()
    if item.status not in CLAIMABLE:
        return item
    if _claimed_by_other(item, reviewer, now):
        raise ClaimedByOther(item.claimed_by.get_username())
    until = now + timedelta(seconds=seconds or settings.AIOS_CLAIM_SECONDS)
    held = item.claimed_by_id == reviewer.pk and item.claim_expires_at is not None
    item.claimed_by = reviewer
    item.claim_expires_at = until
    if held:
        item.save(update_fields=["claim_expires_at", "updated_at"])
    else:
        record_event(
            item,
            kind="claimed",
            actor=reviewer,
            payload={"until": until.isoformat()},
            extra_update_fields=("claimed_by", "claim_expires_at"),
        )
    _session_touch(item, reviewer, now)
    return item


@transaction.atomic
def work_item_release(*, item_id: int, reviewer: AbstractBaseUser) -> WorkItem:
    """Give a claim back (the reviewer left the item). A no-op if not theirs."""
    item = _lock(item_id)
    if item.claimed_by_id == reviewer.pk:
        fields = _clear_claim(item)
        record_event(item, kind="released", actor=reviewer, extra_update_fields=fields)
    return item


@transaction.atomic
def work_item_ping(*, item_id: int, reviewer: AbstractBaseUser) -> bool:
    """Activity on the item page: count the time and extend the claim. True while the
    reviewer still holds the claim. No event (pings are not decisions)."""
    now = timezone.now()
    held = WorkItem.objects.filter(
        pk=item_id, claimed_by=reviewer, status__in=CLAIMABLE, claim_expires_at__gt=now
    ).update(claim_expires_at=now + timedelta(seconds=settings.AIOS_CLAIM_SECONDS))
    session = (
        ReviewSession.objects.select_for_update()
        .filter(item_id=item_id, reviewer=reviewer, decided_at__isnull=True)
        .order_by("-opened_at")
        .first()
    )
    if session is not None:
        _add_activity(session, now)
        session.save(update_fields=["active_seconds", "last_activity_at", "updated_at"])
    return bool(held)


def claims_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Release claims past their expiry (uses the partial index wi_claim_expiry)."""
    now = now or timezone.now()
    ids = list(
        WorkItem.objects.filter(claimed_by__isnull=False, claim_expires_at__lt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for item_id in ids:
        with transaction.atomic():
            item = (
                WorkItem.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("claimed_by")
                .filter(pk=item_id, claimed_by__isnull=False, claim_expires_at__lt=now)
                .first()
            )
            if item is None:  # renewed, released, or being changed right now
                continue
            who = item.claimed_by.get_username() if item.claimed_by else ""
            fields = _clear_claim(item)
            record_event(
                item,
                kind="claim_expired",
                actor_label="system",
                payload={"user": who},
                extra_update_fields=fields,
            )
            released += 1
    return released


# --- decisions -------------------------------------------------------------------------


@transaction.atomic
def work_item_approve(
    *, item_id: int, reviewer: AbstractBaseUser, edited: dict[str, Any] | None = None
) -> WorkItem:
    """Approve as drafted, or with the reviewer's edits (validated against the version's
    draft schema; the per-field diff goes into the event and the edits become a Draft by
    a person, which the commit step sends). Of two reviewers deciding at once exactly
    one succeeds; the other gets AlreadyDecided."""
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_REVIEW}))
    before = item.current_draft.fields if item.current_draft else {}
    payload: dict[str, Any] = {"edited": False}
    extra: list[str] = []
    if edited is not None:
        errors = schema_errors(item.version.draft_schema, edited)
        if errors:
            raise InvalidInput(errors)
        diff = draft_diff(before, edited)
        if diff:
            number = (item.drafts.aggregate(n=Max("number"))["n"] or 0) + 1
            previous = item.current_draft
            item.current_draft = Draft.objects.create(
                item=item,
                number=number,
                author_kind=Draft.Author.PERSON,
                author=reviewer,
                fields=edited,
                confidence=previous.confidence if previous else None,
                rationale=f"edited by {reviewer.get_username()}",
                citations=previous.citations if previous else [],
            )
            extra.append("current_draft")
            payload = {"edited": True, "diff": diff, "draft": number}
    extra.extend(_clear_claim(item))
    payload["review_seconds"] = _session_close(item, reviewer, now, "approved")
    transition(
        item, to=S.APPROVED, actor=reviewer, payload=payload, extra_update_fields=tuple(extra)
    )
    schedule_step(item, step="commit")
    return item


def _reason(value: str, name: str = "reason") -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput({name: "is required"})
    if len(value) > 2000:
        raise InvalidInput({name: "at most 2000 characters"})
    return value


@transaction.atomic
def work_item_reject(*, item_id: int, reviewer: AbstractBaseUser, reason: str) -> WorkItem:
    reason = _reason(reason)
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_REVIEW}))
    extra = _clear_claim(item)
    seconds = _session_close(item, reviewer, now, "rejected")
    transition(
        item,
        to=S.REJECTED,
        actor=reviewer,
        payload={"reason": reason, "review_seconds": seconds},
        extra_update_fields=extra,
    )
    return item


def _escalate(
    item: WorkItem,
    *,
    target: Team,
    reason: str,
    actor: AbstractBaseUser | None,
    actor_label: str | None,
    payload: dict[str, Any],
    extra: tuple[str, ...] = (),
) -> None:
    """awaiting_review → escalated → awaiting_review for `target`, with a fresh SLA."""
    from_team = item.team
    transition(
        item,
        to=S.ESCALATED,
        actor=actor,
        actor_label=actor_label,
        payload={"reason": reason, "from_team": from_team.slug, "to_team": target.slug, **payload},
        extra_update_fields=extra,
    )
    item.team = target
    item.due_at = timezone.now() + timedelta(seconds=item.version.sla_seconds)
    transition(
        item,
        to=S.AWAITING_REVIEW,
        actor=actor,
        actor_label=actor_label,
        payload={"escalated_to": target.slug},
        extra_update_fields=("team", "due_at"),
    )
    _notify(
        list(target.members.all()),
        kind=Notification.Kind.ESCALATED,
        item=item,
        message=f"Escalated to {target.name} from {from_team.name}: {reason}",
    )


@transaction.atomic
def work_item_escalate(
    *, item_id: int, reviewer: AbstractBaseUser, reason: str, team_id: int | None = None
) -> WorkItem:
    """Hand the item to another team (default: the version's escalation team)."""
    reason = _reason(reason)
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_REVIEW}))
    target_id = team_id or item.version.escalation_team_id
    if target_id is None:
        raise InvalidInput({"team": "this workflow has no escalation team; choose one"})
    if target_id == item.team_id:
        raise InvalidInput({"team": "the item is already with this team"})
    target = Team.objects.filter(pk=target_id).first()
    if target is None:
        raise InvalidInput({"team": "no such team"})
    extra = _clear_claim(item)
    seconds = _session_close(item, reviewer, now, "escalated")
    _escalate(
        item,
        target=target,
        reason=reason,
        actor=reviewer,
        actor_label=None,
        payload={"review_seconds": seconds},
        extra=extra,
    )
    return item


@transaction.atomic
def work_item_request_redraft(
    *, item_id: int, reviewer: AbstractBaseUser, instruction: str
) -> WorkItem:
    """Send the item back to its agent with an instruction; it returns to review."""
    instruction = _reason(instruction, "instruction")
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_REVIEW}))
    extra = _clear_claim(item)
    seconds = _session_close(item, reviewer, now, "redraft_requested")
    transition(
        item,
        to=S.REDRAFT_REQUESTED,
        actor=reviewer,
        payload={"instruction": instruction, "review_seconds": seconds},
        extra_update_fields=extra,
    )
    schedule_step(item, step="draft", params={"instruction": instruction})
    return item


@transaction.atomic
def work_item_comment(*, item_id: int, author: AbstractBaseUser, body: str) -> Comment:
    """A comment on the timeline; @username notifies members of the item's team."""
    body = _reason(body, "body")
    item = _lock(item_id)
    names = set(MENTION_RE.findall(body))
    mentioned = (
        list(
            User.objects.filter(username__in=names, teams=item.team_id)
            .exclude(pk=author.pk)
            .distinct()
        )
        if names
        else []
    )
    comment = Comment.objects.create(item=item, author=author, body=body)
    if mentioned:
        comment.mentions.set(mentioned)
        _notify(
            mentioned,
            kind=Notification.Kind.MENTION,
            item=item,
            message=f"{author.get_username()} mentioned you: {body}",
        )
    record_event(
        item,
        kind="comment",
        actor=author,
        payload={
            "comment_id": comment.pk,
            "body": body,
            "mentions": sorted(u.get_username() for u in mentioned),
        },
    )
    return comment


@dataclass
class BulkResult:
    approved: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


@transaction.atomic
def work_items_bulk_approve(
    *, item_ids: list[int], reviewer: AbstractBaseUser, min_confidence: float | None = None
) -> BulkResult:
    """Approve several high-confidence items; each gets its own event and commit step.

    Rows are locked in pk order. Items of other teams, below the confidence floor,
    already decided, or held by someone else are skipped with the reason."""
    floor = settings.AIOS_REVIEW_BULK_MIN_CONFIDENCE if min_confidence is None else min_confidence
    team_ids = set(reviewer.teams.values_list("pk", flat=True))  # type: ignore[attr-defined]
    wanted = sorted(set(item_ids))[:200]
    items = (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("version", "claimed_by")
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    result = BulkResult()
    now = timezone.now()
    found = set()
    for item in items:
        found.add(item.pk)
        if item.team_id not in team_ids:
            result.skipped[item.pk] = "not your team's item"
        elif item.status != S.AWAITING_REVIEW:
            result.skipped[item.pk] = f"already {item.status}"
        elif item.confidence is None or item.confidence < floor:
            result.skipped[item.pk] = f"confidence below {floor:.2f}"
        elif _claimed_by_other(item, reviewer, now):
            result.skipped[item.pk] = f"being reviewed by {item.claimed_by.get_username()}"
        else:
            extra = _clear_claim(item)
            transition(
                item,
                to=S.APPROVED,
                actor=reviewer,
                payload={"edited": False, "bulk": True},
                extra_update_fields=extra,
            )
            schedule_step(item, step="commit")
            result.approved.append(item.pk)
    for missing in set(wanted) - found:
        result.skipped[missing] = "not found"
    return result


# --- post-commit validation ------------------------------------------------------------


def _rollback_under_way(item: WorkItem) -> bool:
    return StepRun.objects.filter(
        item=item,
        step="rollback",
        state__in=[StepRun.State.PENDING, StepRun.State.RUNNING],
    ).exists()


@transaction.atomic
def work_item_validate(*, item_id: int, reviewer: AbstractBaseUser) -> WorkItem:
    """A validator confirms an automatically committed item."""
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_VALIDATION}))
    if _rollback_under_way(item):
        raise AlreadyDecided("A rollback of this item is already under way.")
    extra = _clear_claim(item)
    seconds = _session_close(item, reviewer, now, "validated")
    transition(
        item,
        to=S.VALIDATED,
        actor=reviewer,
        payload={"review_seconds": seconds},
        extra_update_fields=extra,
    )
    return item


@transaction.atomic
def work_item_rollback(*, item_id: int, reviewer: AbstractBaseUser, reason: str) -> WorkItem:
    """Undo a commit downstream: schedules the rollback step, which calls the connector's
    rollback and moves the item to rolled_back with the reason."""
    reason = _reason(reason)
    item = _lock(item_id)
    now = _require(item, reviewer, frozenset({S.AWAITING_VALIDATION}))
    if _rollback_under_way(item):
        raise AlreadyDecided("A rollback of this item is already under way.")
    extra = _clear_claim(item)
    seconds = _session_close(item, reviewer, now, "rollback")
    record_event(
        item,
        kind="rollback_requested",
        actor=reviewer,
        payload={"reason": reason, "review_seconds": seconds},
        extra_update_fields=extra,
    )
    schedule_step(item, step="rollback", params={"reason": reason, "by": reviewer.get_username()})
    return item


# --- SLA -------------------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Flag items past their due time (event `sla_breached`, notifications to the team)
    and escalate them where the workflow's review policy says `"sla_action": "escalate"`.
    Each (item, due time) is flagged once."""
    now = now or timezone.now()
    already = SlaBreach.objects.filter(item=OuterRef("pk"), due_at=OuterRef("due_at"))
    ids = list(
        WorkItem.objects.filter(status__in=CLAIMABLE, due_at__lt=now)
        .exclude(Exists(already))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    flagged = 0
    for item_id in ids:
        with transaction.atomic():
            item = (
                WorkItem.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("version", "team", "version__escalation_team")
                .filter(pk=item_id, status__in=CLAIMABLE, due_at__lt=now)
                .first()
            )
            if item is None or SlaBreach.objects.filter(item=item, due_at=item.due_at).exists():
                continue
            flagged += 1
            overdue = (now - item.due_at).total_seconds()
            breach = SlaBreach.objects.create(item=item, due_at=item.due_at, status=item.status)
            record_event(
                item,
                kind="sla_breached",
                actor_label="sla",
                payload={"due_at": item.due_at.isoformat(), "overdue_seconds": round(overdue)},
            )
            _notify(
                list(item.team.members.all()),
                kind=Notification.Kind.SLA_BREACHED,
                item=item,
                message=f"Item #{item.pk} is past its due time ({round(overdue / 60)} min over)",
            )
            target = item.version.escalation_team
            if (
                (item.version.review_policy or {}).get("sla_action") == "escalate"
                and item.status == S.AWAITING_REVIEW
                and target is not None
                and target.pk != item.team_id
            ):
                _escalate(
                    item,
                    target=target,
                    reason="SLA breached",
                    actor=None,
                    actor_label="sla",
                    payload={},
                    extra=_clear_claim(item),
                )
                breach.escalated = True
                breach.save(update_fields=["escalated", "updated_at"])
    return flagged


# --- notifications ---------------------------------------------------------------------


def notifications_mark_read(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now(), updated_at=timezone.now()
    )
