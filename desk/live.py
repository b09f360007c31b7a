"""Live inbox pushes: after a commit, every viewer of the tenant's inbox gets
the same rendered fragment over Channels. Channel layers drop messages, so
pages re-fetch their state on reconnect and when a numbered push shows a gap;
a push is a hint, never the record."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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


def push_inbox_on_commit(contact: Contact) -> None:
    contact_id = contact.pk
    transaction.on_commit(lambda: push_inbox(contact_id))


def push_inbox(contact_id: int) -> None:
    from desk import queries

    state = (
        Contact.objects.filter(pk=contact_id).values("public_id", "status", "escalated_at").first()
    )
    if state is None:
        return
    if state["status"] != Contact.Status.ESCALATED and state["escalated_at"] is None:
        # Never escalated: it was on nobody's inbox and changes no open count
        # (most contacts, which the agent resolves). Only someone with the
        # contact itself open needs telling.
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
        async_to_sync(_send)(
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
    message = {"type": "contact.push", "html": _panel_refresh(public_id)}
    try:
        async_to_sync(_send)([(contact_group(contact_id), message)])
    except Exception:
        logger.exception("Live contact push failed for contact %s", contact_id)


async def _send(messages: list[tuple[str, dict]]) -> None:
    """Both groups in one trip to the event loop: each ``async_to_sync`` call from a
    worker starts a loop of its own, and with it a fresh connection to Redis."""
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)
