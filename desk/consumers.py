"""Websocket for the live inbox: one connection per open inbox page."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.html import escape

from desk import presence
from desk.live import contact_group, inbox_group
from desk.models import Contact
from tenants.access import tenants_where
from tenants.models import Membership
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
        # Each tenant's pushes are numbered; a jump means the channel layer
        # dropped some on the way here (a full channel, a slow socket). The
        # page is told to fetch its list again rather than stay wrong.
        tenant, seq = event.get("tenant"), event.get("seq")
        if tenant is not None and seq is not None:
            seen = getattr(self, "last_seq", None)
            if seen is None:
                seen = self.last_seq = {}
            last = seen.get(tenant)
            seen[tenant] = seq if last is None else max(last, seq)
            if last is not None and seq > last + 1:
                await self.send(text_data=RESYNC)
        await self.send(text_data=event["html"])


# Understood by the page's script (and harmless without it): re-fetch the list.
RESYNC = '<div id="live-resync" hx-swap-oob="true" hidden></div>'


def _viewable_contact(user, public_id: str) -> Contact | None:
    """The contact if ``user`` may view it, else None (the socket is refused)."""
    contact = Contact.objects.filter(public_id=public_id).select_related("tenant").first()
    if contact is None:
        return None
    membership = Membership.objects.filter(
        user=user, tenant=contact.tenant, tenant__is_active=True
    ).first()
    if membership is None or not membership.can(Permission.VIEW_CONTACTS):
        return None
    return contact


class ContactConsumer(AsyncWebsocketConsumer):
    """One open decision packet: shows who else is looking, and tells the page
    to re-fetch its own panel when the case changes (each viewer's panel
    depends on their role, so the server never broadcasts the panel itself)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        contact = await database_sync_to_async(_viewable_contact)(
            user, self.scope["url_route"]["kwargs"]["public_id"]
        )
        if contact is None:
            await self.close(code=4404)
            return
        self.contact_id = contact.pk
        self.group = contact_group(contact.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        names = await presence.join(
            contact.pk, self.channel_name, user.get_full_name() or user.email
        )
        await self._announce(names)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None) is None:
            return
        names = await presence.leave(self.contact_id, self.channel_name)
        await self._announce(names)
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        return

    async def _announce(self, names: list[str]) -> None:
        html = (
            '<span id="viewers" hx-swap-oob="true">'
            + ("Viewing now: " + ", ".join(escape(n) for n in names) if names else "")
            + "</span>"
        )
        await self.channel_layer.group_send(self.group, {"type": "contact.push", "html": html})

    async def contact_push(self, event: dict) -> None:
        await self.send(text_data=event["html"])
