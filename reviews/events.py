"""Publishing: the engine's after-commit `work_item_changed` signal → Channels groups.

Messages carry ids only (ARCHITECTURE.md "Live updates"); the browser re-fetches the
fragments it shows, so rendering and permissions stay in views. Delivery is at most
once: clients resync from the event log (/reviews/events/?after=<id>).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

DASHBOARD_GROUP = "dashboard"


def queue_group(team_id: int) -> str:
    return f"queue.{team_id}"


def item_group(item_id: int) -> str:
    return f"item.{item_id}"


async def _send_all(message: dict[str, Any], groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        await layer.group_send(group, message)


def publish_work_item_event(
    *, item_id: int, event_id: int, team_id: int, status: str, kind: str
) -> None:
    message = {
        "type": "work_item.event",
        "event_id": event_id,
        "item_id": item_id,
        "status": status,
        "kind": kind,
        "team_id": team_id,
    }
    groups = [queue_group(team_id), item_group(item_id), DASHBOARD_GROUP]
    try:
        async_to_sync(_send_all)(message, groups)
    except Exception:  # the socket only notifies; clients resync from the event log
        log.warning("could not publish event %s of item %s", event_id, item_id, exc_info=True)


def on_work_item_changed(sender: Any, **kwargs: Any) -> None:
    """Receiver of workflows.events.work_item_changed (connected in ReviewsConfig.ready)."""
    publish_work_item_event(
        item_id=kwargs["item_id"],
        event_id=kwargs["event_id"],
        team_id=kwargs["team_id"],
        status=kwargs["status"],
        kind=kwargs["kind"],
    )
