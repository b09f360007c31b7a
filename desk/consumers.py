"""Websockets for the live inbox (one per open inbox page) and for an open contact."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.html import escape

from desk import presence
from desk.live import contact_group, current_seqs, inbox_group
from desk.models import Contact
from tenants.access import tenants_where
from tenants.models import Membership
from tenants.roles import Permission

logger = logging.getLogger(__name__)

# Each round, every socket of the process is checked in one go:
# - an inbox socket compares the pushes it got with those sent. A drop is caught by
#   the next push that gets through; this catches the drops nothing follows (the
#   last pushes before a quiet spell, lost to a full channel);
# - every REJOIN_ROUNDS rounds a socket joins its groups again. The channel layer
#   forgets a member after its group_expiry (settings: two minutes), so a socket
#   that died without leaving (a process restart, a lost disconnect) stops costing
#   every push within minutes, while a page open all day stays in.
ROUND_SECONDS = 2.0
REJOIN_ROUNDS = 15


class _Rounds:
    """One per event loop, for all of its sockets: one read of the push numbers of
    every tenant its inbox sockets follow per round."""

    def __init__(self) -> None:
        self.sockets: set[InboxConsumer | ContactConsumer] = set()
        self.task: asyncio.Task | None = None
        self.jobs: set[asyncio.Task] = set()

    def add(self, socket: InboxConsumer | ContactConsumer) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def _start(self, job) -> None:
        # Apart, so one slow socket holds up no other; spread over the round, so the
        # pages told to fetch their lists do not all ask in the same instant.
        task = asyncio.create_task(_after(random.uniform(0, ROUND_SECONDS), job))
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    async def _run(self) -> None:
        round_number = 0
        while self.sockets:
            await asyncio.sleep(ROUND_SECONDS)
            round_number += 1
            tenants = sorted({t for socket in self.sockets for t in socket.tenant_ids})
            sent: dict[int, int] = {}
            if tenants:
                try:
                    sent = await sync_to_async(current_seqs, thread_sensitive=False)(tenants)
                except Exception:
                    # The queue is away; the page's own minutely fetch still runs.
                    logger.warning("Reading the inbox push numbers failed", exc_info=True)
            for socket in list(self.sockets):
                if socket.missed_a_push():
                    self._start(socket.resync())
                socket.owed = {t: sent[t] for t in socket.tenant_ids if t in sent}
                if round_number % REJOIN_ROUNDS == 0:
                    self._start(socket.rejoin())


async def _after(seconds: float, job) -> None:
    await asyncio.sleep(seconds)
    await job


_rounds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Rounds] = weakref.WeakKeyDictionary()


def _rounds_here() -> _Rounds:
    loop = asyncio.get_running_loop()
    if loop not in _rounds:
        _rounds[loop] = _Rounds()
    return _rounds[loop]


class _KeptInGroups:
    """What the rounds need of a socket; a socket that follows no tenant's inbox
    pushes owes nothing."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant_ids: list[int] = []
        self.owed: dict[int, int] = {}
        self.groups_joined: list[str] = []

    def missed_a_push(self) -> bool:
        return False

    async def resync(self) -> None:
        return

    async def rejoin(self) -> None:
        with contextlib.suppress(Exception):  # the queue is away: the next round retries
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)


class InboxConsumer(_KeptInGroups, AsyncWebsocketConsumer):
    """Joins the inbox group of every tenant where the user may view contacts;
    membership is checked on connect, so a stranger never joins a group."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        tenants = await database_sync_to_async(tenants_where)(user, Permission.VIEW_CONTACTS)
        self.tenant_ids = [t.pk for t in tenants]
        self.groups_joined = [inbox_group(t.pk) for t in tenants]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # The page fetches its list as it connects: pushes from here on are owed.
        self.last_seq = await sync_to_async(current_seqs, thread_sensitive=False)(self.tenant_ids)
        await self.accept()
        _rounds_here().add(self)

    async def disconnect(self, code: int) -> None:
        _rounds_here().sockets.discard(self)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # The page only listens; anything it sends is ignored.
        return

    def missed_a_push(self) -> bool:
        """Whether a push owed since the last round never came; if so, it is no longer
        owed (the page's fetch will show it), so the page is told once."""
        missed = any(self.last_seq.get(t, 0) < seq for t, seq in self.owed.items())
        if missed:
            for tenant, seq in self.owed.items():
                self.last_seq[tenant] = max(self.last_seq.get(tenant, 0), seq)
        return missed

    async def resync(self) -> None:
        with contextlib.suppress(Exception):  # gone meanwhile: its disconnect follows
            await self.send(text_data=RESYNC)

    async def inbox_push(self, event: dict) -> None:
        # Each tenant's pushes are numbered; a jump means the channel layer
        # dropped some on the way here (a full channel, a slow socket). The
        # page is told to fetch its list again rather than stay wrong.
        tenant, seq = event.get("tenant"), event.get("seq")
        if tenant is not None and seq is not None:
            seen = self.last_seq
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


class ContactConsumer(_KeptInGroups, AsyncWebsocketConsumer):
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
        self.groups_joined = [self.group]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        _rounds_here().add(self)
        names = await presence.join(
            contact.pk, self.channel_name, user.get_full_name() or user.email
        )
        await self._announce(names)

    async def disconnect(self, code: int) -> None:
        _rounds_here().sockets.discard(self)
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
