"""Fast factories for review tests: rows written in bulk, without running the engine.

Items made here are in `awaiting_review` with one agent draft, as the engine would leave
them; their event chain starts at the first action taken on them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from workflows.models import Draft, Status, WorkflowVersion, WorkItem


def make_review_items(
    version: WorkflowVersion,
    count: int,
    *,
    status: str = Status.AWAITING_REVIEW,
    team_id: int | None = None,
    fields: dict[str, Any] | None = None,
    key_prefix: str = "F",
    **overrides: Any,
) -> list[WorkItem]:
    """`count` items waiting for review; priority/confidence/due vary with the index
    unless given in `overrides` (callables get the index)."""
    now = timezone.now()
    rows = []
    for i in range(count):
        values = {
            "priority": i % 3,
            "confidence": round(0.5 + (i % 5) / 10, 2),
            "due_at": now + timedelta(minutes=10 + i),
        }
        for name, value in overrides.items():
            values[name] = value(i) if callable(value) else value
        rows.append(
            WorkItem(
                version=version,
                workflow_id=version.workflow_id,
                external_key=f"{key_prefix}-{i}",
                input={"customer": f"Customer {i}", "amount": i},
                status=status,
                team_id=team_id or version.reviewing_team_id,
                review_requested_at=now,
                **values,
            )
        )
    items = WorkItem.objects.bulk_create(rows)
    drafts = Draft.objects.bulk_create(
        Draft(
            item=item,
            number=1,
            author_kind=Draft.Author.AGENT,
            agent=version.agent,
            fields=fields if fields is not None else dict(item.input),
            confidence=item.confidence,
            rationale="factory draft",
        )
        for item in items
    )
    for item, draft in zip(items, drafts, strict=True):
        item.current_draft = draft
    WorkItem.objects.bulk_update(items, ["current_draft"])
    return items
