"""The live inbox websocket: membership checked on connect, pushes stay in their tenant."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings

from desk.actions import ProposalDraft, submit_proposal
from desk.asgi import application
from desk.models import Proposal
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(client, user) -> bytes:
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _escalate(tenant):
    order = make_order(tenant, total="300.00")
    contact = make_contact(tenant, order=order, subject="Refund for a parka")
    submit_proposal(
        contact,
        ProposalDraft(
            kind=Proposal.Kind.REFUND,
            amount=Decimal("300"),
            currency="USD",
            reply_draft="",
            confidence=Decimal("0.9"),
            rationale="",
        ),
        guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "above limit"}],
        actor=Actor.agent(),
    )
    return contact


async def _connect(cookie: bytes | None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


def test_member_receives_escalations_of_their_tenant_only(client):
    mine, theirs = make_tenant(), make_tenant()
    cookie = _session_cookie(client, make_member(mine, Role.SPECIALIST))

    async def scenario():
        communicator, connected, _ = await _connect(cookie)
        assert connected
        foreign = await sync_to_async(_escalate)(theirs)
        own = await sync_to_async(_escalate)(mine)
        message = await communicator.receive_from(timeout=5)
        assert str(own.public_id) in message
        assert str(foreign.public_id) not in message
        assert 'hx-swap-oob="beforeend:#inbox-rows"' in message
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    asyncio.run(scenario())


def test_anonymous_socket_is_refused():
    async def scenario():
        _, connected, code = await _connect(None)
        assert not connected
        assert code == 4401

    asyncio.run(scenario())


def test_merchant_admin_joins_no_inbox(client):
    tenant = make_tenant()
    cookie = _session_cookie(client, make_member(tenant, Role.MERCHANT_ADMIN))

    async def scenario():
        communicator, connected, _ = await _connect(cookie)
        assert connected
        await sync_to_async(_escalate)(tenant)
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    asyncio.run(scenario())


async def _connect_contact(cookie: bytes, contact):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/contacts/{contact.public_id}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)],
    )
    connected, code = await communicator.connect()
    return communicator, connected, code


def test_two_viewers_of_a_contact_see_each_other(client):
    from django.test import Client

    tenant = make_tenant()
    contact = _escalate(tenant)
    alice = make_member(tenant, Role.SPECIALIST, email="alice@example.com")
    bob = make_member(tenant, Role.SPECIALIST, email="bob@example.com")
    alice_cookie, bob_cookie = _session_cookie(client, alice), _session_cookie(Client(), bob)

    async def scenario():
        first, connected, _ = await _connect_contact(alice_cookie, contact)
        assert connected
        assert "alice@example.com" in await first.receive_from(timeout=5)
        second, _, _ = await _connect_contact(bob_cookie, contact)
        seen_by_alice = await first.receive_from(timeout=5)
        assert "alice@example.com" in seen_by_alice and "bob@example.com" in seen_by_alice
        await second.disconnect()
        assert "bob@example.com" not in await first.receive_from(timeout=5)
        await first.disconnect()

    asyncio.run(scenario())


def test_a_change_tells_open_packets_to_refetch_their_panel(client):
    from desk import actions

    tenant = make_tenant()
    contact = _escalate(tenant)
    user = make_member(tenant, Role.SPECIALIST)
    cookie = _session_cookie(client, user)

    async def scenario():
        viewer, _, _ = await _connect_contact(cookie, contact)
        await viewer.receive_from(timeout=5)  # presence
        await sync_to_async(actions.claim_contact)(contact, user)
        message = await viewer.receive_from(timeout=5)
        assert 'id="contact-changed"' in message and 'hx-trigger="load"' in message
        await viewer.disconnect()

    asyncio.run(scenario())


def test_a_stranger_cannot_watch_a_contact(client):
    contact = _escalate(make_tenant())
    cookie = _session_cookie(client, make_member(make_tenant(), Role.SPECIALIST))

    async def scenario():
        _, connected, code = await _connect_contact(cookie, contact)
        assert not connected
        assert code == 4404

    asyncio.run(scenario())


def test_a_gap_in_the_numbered_pushes_tells_the_page_to_fetch_its_list_again(client):
    """Channel layers drop messages to a full channel; the next push that gets
    through shows the gap, and the page is told to re-fetch instead of
    silently missing an escalation."""
    from channels.layers import get_channel_layer

    from desk.live import inbox_group, next_seq

    tenant = make_tenant()
    cookie = _session_cookie(client, make_member(tenant, Role.SPECIALIST))
    layer = get_channel_layer()

    async def push(seq: int, html: str) -> None:
        await layer.group_send(
            inbox_group(tenant.pk),
            {"type": "inbox.push", "html": html, "tenant": tenant.pk, "seq": seq},
        )

    async def scenario():
        communicator, connected, _ = await _connect(cookie)
        assert connected
        first = await sync_to_async(next_seq)(tenant.pk)
        await push(first, "<p>one</p>")
        assert await communicator.receive_from(timeout=5) == "<p>one</p>"
        await push(first + 1, "<p>two</p>")  # in order: nothing extra
        assert await communicator.receive_from(timeout=5) == "<p>two</p>"
        await push(first + 4, "<p>five</p>")  # three and four were lost
        assert 'id="live-resync"' in await communicator.receive_from(timeout=5)
        assert await communicator.receive_from(timeout=5) == "<p>five</p>"
        await push(first + 3, "<p>four, late</p>")  # late, not a gap
        assert await communicator.receive_from(timeout=5) == "<p>four, late</p>"
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    asyncio.run(scenario())


def test_a_lost_last_push_is_caught_up_without_a_later_one(client, monkeypatch):
    """The push lost to a full channel may be the last for a while: nothing after it
    shows the gap, so the socket compares what it got with what was sent."""
    from channels.layers import get_channel_layer

    from desk import consumers
    from desk.live import inbox_group, next_seq

    monkeypatch.setattr(consumers, "ROUND_SECONDS", 0.2)
    tenant = make_tenant()
    cookie = _session_cookie(client, make_member(tenant, Role.SPECIALIST))
    layer = get_channel_layer()

    async def scenario():
        communicator, connected, _ = await _connect(cookie)
        assert connected
        first = await sync_to_async(next_seq)(tenant.pk)
        await layer.group_send(
            inbox_group(tenant.pk),
            {"type": "inbox.push", "html": "<p>one</p>", "tenant": tenant.pk, "seq": first},
        )
        assert await communicator.receive_from(timeout=5) == "<p>one</p>"
        # Every push arrived: rounds go by without a word.
        assert await communicator.receive_nothing(timeout=0.7)
        await sync_to_async(next_seq)(tenant.pk)  # numbered, then dropped on the way
        assert 'id="live-resync"' in await communicator.receive_from(timeout=5)
        # Told once, not every round.
        assert await communicator.receive_nothing(timeout=0.7)
        await communicator.disconnect()

    asyncio.run(scenario())


def test_a_socket_joins_its_groups_again_so_only_dead_ones_expire(client, monkeypatch):
    """The channel layer forgets a group member after its group_expiry: a socket that
    died without leaving stops being sent to, and a page open all day stays in."""
    import redis
    from channels.layers import get_channel_layer

    from desk import consumers
    from desk.live import inbox_group

    monkeypatch.setattr(consumers, "ROUND_SECONDS", 0.1)
    monkeypatch.setattr(consumers, "REJOIN_ROUNDS", 2)
    tenant = make_tenant()
    cookie = _session_cookie(client, make_member(tenant, Role.SPECIALIST))
    layer = get_channel_layer()
    assert layer.group_expiry == 120
    group_key = layer._group_key(inbox_group(tenant.pk))
    store = redis.Redis.from_url(settings.REDIS_URL)

    async def scenario():
        communicator, connected, _ = await _connect(cookie)
        assert connected
        [(member, joined)] = store.zrange(group_key, 0, -1, withscores=True)
        # As if it had joined long ago: the next rejoin dates it now again.
        store.zadd(group_key, {member: joined - 600})
        await asyncio.sleep(0.5)
        [(_, rejoined)] = store.zrange(group_key, 0, -1, withscores=True)
        assert rejoined >= joined
        await communicator.disconnect()

    asyncio.run(scenario())


def test_pushes_are_numbered_per_tenant(client):
    from desk.live import next_seq

    one, two = make_tenant(), make_tenant()
    a = next_seq(one.pk)
    assert next_seq(one.pk) == a + 1
    b = next_seq(two.pk)
    assert next_seq(two.pk) == b + 1


def test_a_contact_resolved_without_escalation_pushes_nothing_to_inboxes(client):
    """The agent resolves most contacts alone: they were on nobody's inbox and change
    no count, so inboxes hear nothing, while someone with the contact open is told."""
    from agents.tasks import handle_contact

    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST)
    cookie = _session_cookie(client, user)
    contact = make_contact(tenant, order=make_order(tenant), body="where is my order??")

    async def scenario():
        inbox, connected, _ = await _connect(cookie)
        assert connected
        viewer, _, _ = await _connect_contact(cookie, contact)
        await viewer.receive_from(timeout=5)  # presence
        await sync_to_async(handle_contact.run)(contact_id=contact.pk)
        message = await viewer.receive_from(timeout=5)
        assert 'id="contact-changed"' in message
        assert await inbox.receive_nothing(timeout=0.5)
        await viewer.disconnect()
        await inbox.disconnect()

    asyncio.run(scenario())
    contact.refresh_from_db()
    assert contact.status == "resolved" and contact.escalated_at is None


def test_an_open_packet_is_what_makes_its_contact_have_listeners(client):
    """Read from where channels_redis keeps its groups: should an upgrade move
    them, this fails rather than every panel push going quiet."""
    from desk.live import contact_group, has_listeners

    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant))
    cookie = _session_cookie(client, make_member(tenant, Role.SPECIALIST))
    group = contact_group(contact.pk)
    before = has_listeners(group)

    async def scenario():
        viewer, connected, _ = await _connect_contact(cookie, contact)
        assert connected
        await viewer.receive_from(timeout=5)  # presence
        watched = await sync_to_async(has_listeners)(group)
        await viewer.disconnect()
        return watched

    watched = asyncio.run(scenario())
    assert (before, watched, has_listeners(group)) == (False, True, False)
