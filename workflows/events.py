"""Events leave the engine through one signal, sent only after the transaction commits.

The engine never imports `reviews`; the reviews side connects to `work_item_changed` and
forwards to Channels groups. Receivers get ids only and must re-read what they need.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# sent with: item_id, event_id, team_id, status, kind
work_item_changed = Signal()


def publish_work_item_changed(
    *, item_id: int, event_id: int, team_id: int, status: str, kind: str
) -> None:
    """Schedule the notification for after commit (never for a rolled-back change)."""

    def send() -> None:
        work_item_changed.send_robust(
            sender=None,
            item_id=item_id,
            event_id=event_id,
            team_id=team_id,
            status=status,
            kind=kind,
        )

    transaction.on_commit(send)
