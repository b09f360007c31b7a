"""Websocket for the live inbox: one connection per open inbox page."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from desk.live import inbox_group
from tenants.access import tenants_where
from tenants.roles import Permission


class InboxConsumer(AsyncWebsocketConsumer):
    """Joins the inbox group of every tenant where the user may view contacts;
    membership is checked on connect, so a stranger never joins a group."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        tenants = await database_sync_to_async(tenants_where)(user, Permission.VIEW_CONTACTS)
        self.groups_joined = [inbox_group(t.pk) for t in tenants]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # The page only listens; anything it sends is ignored.
        return

    async def inbox_push(self, event: dict) -> None:
        await self.send(text_data=event["html"])
