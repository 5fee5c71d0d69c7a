"""The reviewer socket: authenticated, authorised per team, forwards ids only.

On connect a reviewer joins `queue.<team>` for each of their teams. The page may ask
for more with {"type": "subscribe", "team_id": N} or {"type": "subscribe", "item_id": N};
a team or item that is not the user's is refused. Every forwarded event is checked
against the user's teams again, so nothing leaks across teams. Item pages also share
presence ({"type": "presence", "user", "state": join|here|leave}).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from aios_app import roles
from reviews.events import item_group, queue_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _team_ids(user: Any) -> set[int]:
    if not roles.has_role_perm(user, roles.REVIEW):
        return set()
    return set(user.teams.values_list("pk", flat=True))


@database_sync_to_async
def _item_team(item_id: int) -> int | None:
    from workflows.models import WorkItem

    return WorkItem.objects.filter(pk=item_id).values_list("team_id", flat=True).first()


class ReviewConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.groups_joined: set[str] = set()
        self.items: set[int] = set()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.team_ids = await _team_ids(user)
        if not self.team_ids:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.username = user.get_username()
        await self.accept()
        for team_id in sorted(self.team_ids):
            await self._join(queue_group(team_id))
        await self.send_json({"type": "hello", "teams": sorted(self.team_ids)})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def disconnect(self, code: int) -> None:
        for item_id in list(getattr(self, "items", ())):
            await self._presence(item_id, "leave")
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "subscribe":
            return
        if "team_id" in content:
            team_id = _int(content["team_id"])
            if team_id not in self.team_ids:
                await self.send_json({"type": "refused", "team_id": content["team_id"]})
                return
            await self._join(queue_group(team_id))
            await self.send_json({"type": "subscribed", "team_id": team_id})
        elif "item_id" in content:
            item_id = _int(content["item_id"])
            team_id = await _item_team(item_id) if item_id else None
            if team_id not in self.team_ids:
                await self.send_json({"type": "refused", "item_id": content["item_id"]})
                return
            await self._join(item_group(item_id))
            self.items.add(item_id)
            await self.send_json({"type": "subscribed", "item_id": item_id})
            await self._presence(item_id, "join")

    async def _presence(self, item_id: int, state: str) -> None:
        await self.channel_layer.group_send(
            item_group(item_id),
            {
                "type": "presence.update",
                "item_id": item_id,
                "user": self.username,
                "state": state,
                "sender": self.channel_name,
            },
        )

    # --- group messages ----------------------------------------------------------------

    async def work_item_event(self, message: dict[str, Any]) -> None:
        if message.get("team_id") not in self.team_ids:
            return  # defence in depth: never forward another team's item
        await self.send_json(
            {
                "type": "event",
                "event_id": message["event_id"],
                "item_id": message["item_id"],
                "status": message["status"],
                "kind": message["kind"],
                "team_id": message["team_id"],
            }
        )

    async def presence_update(self, message: dict[str, Any]) -> None:
        if message.get("sender") == self.channel_name or message["item_id"] not in self.items:
            return
        await self.send_json(
            {
                "type": "presence",
                "item_id": message["item_id"],
                "user": message["user"],
                "state": message["state"],
            }
        )
        if message["state"] == "join":  # tell the newcomer who is already here
            await self._presence(message["item_id"], "here")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
