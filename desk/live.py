"""Live inbox pushes: after a commit, every viewer of the tenant's inbox gets
the same rendered fragment over Channels. Channel layers drop messages, so
pages re-fetch their state on reconnect and when a numbered push shows a gap;
a push is a hint, never the record."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import redis
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from desk.models import Contact

logger = logging.getLogger(__name__)


def inbox_group(tenant_id: int) -> str:
    return f"tenant.{tenant_id}.inbox"


def contact_group(contact_id: int) -> str:
    return f"contact.{contact_id}"


def _panel_refresh(public_id) -> str:
    """Tell open packets of this contact to fetch their own (role-specific) panel."""
    url = reverse("desk:contact", kwargs={"contact_id": public_id})
    return (
        f'<div id="contact-changed" hx-swap-oob="true" hx-get="{url}" hx-trigger="load" '
        'hx-target="#decision-panel" hx-swap="outerHTML"></div>'
    )


def next_seq(tenant_id: int) -> int:
    """The number of this tenant's next inbox push, so a socket can tell it missed one."""
    key = f"inbox-seq:{tenant_id}"
    cache.add(key, 0, timeout=None)
    return cache.incr(key)


def current_seqs(tenant_ids: list[int]) -> dict[int, int]:
    """The number of each tenant's latest inbox push (0 before the first), one read."""
    keys = {f"inbox-seq:{tenant_id}": tenant_id for tenant_id in tenant_ids}
    found = cache.get_many(list(keys))
    return {tenant_id: int(found.get(key) or 0) for key, tenant_id in keys.items()}


def push_inbox_on_commit(contact: Contact) -> None:
    """Push once the caller's transaction commits. Every caller passes the
    instance its transaction locked and saved, so at commit time it tells
    whether the contact was ever escalated without reading the row back."""
    transaction.on_commit(lambda: _push_committed(contact))


def _push_committed(contact: Contact) -> None:
    if _never_escalated(contact.status, contact.escalated_at):
        _push_panel_only(contact.pk, contact.public_id)
    else:
        push_inbox(contact.pk)


def _never_escalated(status: str, escalated_at) -> bool:
    """On nobody's inbox and in no open count (most contacts, which the agent
    resolves): only someone with the contact itself open needs telling."""
    return status != Contact.Status.ESCALATED and escalated_at is None


def push_inbox(contact_id: int) -> None:
    from desk import queries

    state = (
        Contact.objects.filter(pk=contact_id).values("public_id", "status", "escalated_at").first()
    )
    if state is None:
        return
    if _never_escalated(state["status"], state["escalated_at"]):
        _push_panel_only(contact_id, state["public_id"])
        return
    contact = queries.inbox_rows().filter(pk=contact_id).first()
    if contact is None:
        return
    html = render_to_string(
        "desk/live_inbox_push.html",
        {
            "contact": contact,
            "row": queries.present(contact, timezone.now()),
            "is_open": contact.status == Contact.Status.ESCALATED,
            "tenant_counts": [queries.open_count(contact.tenant)],
            "now": timezone.now(),
        },
    )
    try:
        send_to_groups(
            [
                (
                    inbox_group(contact.tenant_id),
                    {
                        "type": "inbox.push",
                        "html": html,
                        "tenant": contact.tenant_id,
                        "seq": next_seq(contact.tenant_id),
                    },
                ),
                (
                    contact_group(contact.pk),
                    {"type": "contact.push", "html": _panel_refresh(contact.public_id)},
                ),
            ]
        )
    except Exception:
        # A lost push costs a viewer a refresh; it must never undo the commit's work.
        logger.exception("Live inbox push failed for contact %s", contact_id)


def _push_panel_only(contact_id: int, public_id) -> None:
    _push_to_viewers(contact_id, _panel_refresh(public_id))


def _deliveries_refresh(public_id) -> str:
    """Tell open conversations of this contact to fetch their delivery badges again."""
    url = reverse("desk:deliveries", kwargs={"contact_id": public_id})
    return (
        f'<div id="deliveries-changed" hx-swap-oob="true" hx-get="{url}" hx-trigger="load" '
        'hx-swap="none"></div>'
    )


def push_deliveries(contact_id: int, public_id) -> None:
    """A message to the customer was sent, delivered or failed: whoever has the contact
    open fetches where its messages stand, as their role shows it (only those who may
    decide get Send again). Nobody watching costs one Redis count."""
    _push_to_viewers(contact_id, _deliveries_refresh(public_id))


def _push_to_viewers(contact_id: int, html: str) -> None:
    group = contact_group(contact_id)
    try:
        if has_listeners(group):
            send_to_groups([(group, {"type": "contact.push", "html": html})])
    except Exception:
        logger.exception("Live contact push failed for contact %s", contact_id)


# --- who listens ----------------------------------------------------------------

_clients: dict[str, redis.Redis] = {}


def _redis(address: str) -> redis.Redis:
    """One client per process and address; redis-py reopens its connections in
    a forked process by itself."""
    client = _clients.get(address)
    if client is None:
        client = _clients[address] = redis.Redis.from_url(
            address, socket_timeout=2, socket_connect_timeout=2
        )
    return client


def has_listeners(group: str) -> bool:
    """Whether any socket is in ``group`` now. channels_redis keeps a group as a
    sorted set of channel names scored by when each joined, and counts members
    older than its ``group_expiry`` as gone: one ZCOUNT of the others answers.

    Anything short of a sure "nobody" (another layer, a host not given as an
    address, Redis failing) answers yes: a skipped push may only be one that
    nobody would have received."""
    layer = get_channel_layer()
    if not isinstance(layer, RedisChannelLayer):
        return True
    host = layer.hosts[layer.consistent_hash(group)]
    if set(host) != {"address"}:
        return True
    joined_after = int(time.time()) - layer.group_expiry
    try:
        members = _redis(host["address"]).zcount(
            layer._group_key(group), f"({joined_after}", "+inf"
        )
    except Exception:
        logger.warning(
            "Could not tell whether %s has listeners; pushing anyway", group, exc_info=True
        )
        return True
    return members > 0


# --- sending from sync code ----------------------------------------------------

# Past this a push is dropped (and logged): it is a hint, and the caller's task has work to do.
SEND_TIMEOUT_SECONDS = 2.0


class _SendLoop:
    """The process's event loop for channel-layer sends, run by a daemon thread.

    ``async_to_sync`` from a worker starts a loop per call, and channels_redis
    keeps its connections per loop, so every push paid for a loop and a new
    Redis connection. This loop lives as long as the process. A forked child
    (a Celery pool process) inherits the loop but not the thread running it,
    so a change of pid starts a new one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: tuple[int, asyncio.AbstractEventLoop] | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        running = self._running
        if running is None or running[0] != os.getpid():
            with self._lock:
                running = self._running
                if running is None or running[0] != os.getpid():
                    loop = asyncio.new_event_loop()
                    threading.Thread(target=loop.run_forever, name="live-push", daemon=True).start()
                    running = self._running = (os.getpid(), loop)
        return running[1]

    def run(self, coroutine, timeout: float):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def forget_lock(self) -> None:
        """A fork copies the lock as it was: held, if another thread was starting a loop."""
        self._lock = threading.Lock()


_send_loop = _SendLoop()
os.register_at_fork(after_in_child=_send_loop.forget_lock)
_scheduled: set[asyncio.Task] = set()


def send_to_groups(messages: list[tuple[str, dict]]) -> None:
    """Send from sync code, all messages in one trip to the process's send loop.
    Raises what the layer raised, or TimeoutError; callers log it.

    Sync code called straight from a running event loop must not block it: there
    the send is scheduled on that loop instead, and a failure is logged."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        _send_loop.run(_send(messages), SEND_TIMEOUT_SECONDS)
        return
    task = running.create_task(_send(messages))
    _scheduled.add(task)  # the loop keeps only a weak reference
    task.add_done_callback(_scheduled_send_done)


def _scheduled_send_done(task: asyncio.Task) -> None:
    _scheduled.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("Live push failed", exc_info=task.exception())


async def _send(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)
