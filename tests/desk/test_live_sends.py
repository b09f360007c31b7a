"""Live pushes from sync code (workers, views): one event loop per process, nothing
sent to a contact nobody has open, and a failed push never reaches the caller."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from desk import live
from desk.models import Contact
from tests.conftest import wait_for
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _resolved_by_the_agent() -> Contact:
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant))
    contact.status = Contact.Status.RESOLVED
    contact.save(update_fields=["status"])
    return contact


def _a_group() -> str:
    return f"contact.test-{uuid.uuid4().hex}"


@pytest.fixture
def record_sends(monkeypatch):
    """What reached the layer, and on which loop and thread."""
    sent: list[tuple[list, asyncio.AbstractEventLoop, threading.Thread]] = []

    async def record(messages):
        sent.append((messages, asyncio.get_running_loop(), threading.current_thread()))

    monkeypatch.setattr(live, "_send", record)
    return sent


# --- one loop per process ---------------------------------------------------------


def test_sends_from_one_process_share_one_loop_running_in_its_own_thread(record_sends):
    live.send_to_groups([("a", {"type": "x"})])
    live.send_to_groups([("b", {"type": "x"})])

    (_, first_loop, first_thread), (_, second_loop, second_thread) = record_sends
    assert first_loop is second_loop and first_loop.is_running()
    assert first_thread is second_thread is not threading.current_thread()
    assert first_thread.daemon


def test_a_forked_process_starts_a_loop_of_its_own(record_sends, monkeypatch):
    """The child inherits the parent's loop but not the thread running it."""
    own = live._SendLoop()
    monkeypatch.setattr(live, "_send_loop", own)
    parent_pid = os.getpid()
    live.send_to_groups([])
    with monkeypatch.context() as forked:
        forked.setattr(os, "getpid", lambda: parent_pid + 1)
        live.send_to_groups([])
        live.send_to_groups([])
    loops = [loop for _, loop, _ in record_sends]
    try:
        assert loops[0] is not loops[1]
        assert loops[1] is loops[2]
    finally:
        for loop in set(loops):
            loop.call_soon_threadsafe(loop.stop)


def test_sync_code_called_inside_a_running_loop_schedules_its_send_there(record_sends):
    """Blocking would stall that loop, and every socket it serves."""

    async def scenario():
        live.send_to_groups([("a", {"type": "x"})])
        assert record_sends == []
        await asyncio.sleep(0)
        return asyncio.get_running_loop()

    loop = asyncio.run(scenario())
    assert [sent_on for _, sent_on, _ in record_sends] == [loop]


# --- who listens -----------------------------------------------------------------


def test_a_group_nobody_joined_has_no_listeners():
    assert live.has_listeners(_a_group()) is False


def test_a_member_of_the_group_is_a_listener_until_it_leaves():
    layer, group, channel = get_channel_layer(), _a_group(), f"viewer.{uuid.uuid4().hex}"
    async_to_sync(layer.group_add)(group, channel)
    try:
        assert live.has_listeners(group) is True
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    assert live.has_listeners(group) is False


def test_a_member_that_joined_before_the_group_expiry_is_no_listener(monkeypatch):
    """The layer drops such members on its next send to the group; so does the count."""
    import channels_redis.core

    layer, group = get_channel_layer(), _a_group()
    long_ago = time.time() - layer.group_expiry - 5
    with monkeypatch.context() as then:
        then.setattr(channels_redis.core, "time", type("Then", (), {"time": lambda: long_ago}))
        async_to_sync(layer.group_add)(group, "viewer.gone")
    try:
        assert live.has_listeners(group) is False
    finally:
        async_to_sync(layer.group_discard)(group, "viewer.gone")


def test_when_redis_cannot_say_the_push_goes_out_anyway(monkeypatch, caplog):
    """A lost hint costs a refresh; a skipped one may only be one nobody would see."""

    class Down:
        def zcount(self, *args):
            raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(live, "_redis", lambda address: Down())
    assert live.has_listeners(_a_group()) is True
    assert "pushing anyway" in caplog.text


# --- what a committed change pushes ------------------------------------------------


def test_a_contact_nobody_has_open_costs_no_query_and_no_send(record_sends):
    contact = _resolved_by_the_agent()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        live.push_inbox_on_commit(contact)
    assert [q["sql"] for q in queries] == ["BEGIN", "COMMIT"]
    assert record_sends == []


def test_a_contact_someone_has_open_tells_them_to_fetch_their_panel():
    contact = _resolved_by_the_agent()
    layer, channel = get_channel_layer(), f"viewer.{uuid.uuid4().hex}"
    group = live.contact_group(contact.pk)
    async_to_sync(layer.group_add)(group, channel)
    try:
        with transaction.atomic():
            live.push_inbox_on_commit(contact)
        message = asyncio.run(asyncio.wait_for(layer.receive(channel), timeout=5))
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    assert message["type"] == "contact.push"
    assert 'id="contact-changed"' in message["html"]


def test_the_push_decides_on_the_contact_as_it_stands_at_commit(monkeypatch):
    """Escalated later in the same transaction: inboxes hear of it."""
    to_inboxes = []
    monkeypatch.setattr(live, "push_inbox", to_inboxes.append)
    monkeypatch.setattr(live, "_push_panel_only", lambda *args: pytest.fail("panel only"))
    contact = make_contact(make_tenant())
    with transaction.atomic():
        live.push_inbox_on_commit(contact)
        contact.status = Contact.Status.ESCALATED
        contact.escalated_at = timezone.now()
        contact.save(update_fields=["status", "escalated_at"])
    assert to_inboxes == [contact.pk]


def test_a_contact_once_escalated_still_updates_inboxes_when_resolved(monkeypatch):
    """It was on an inbox, and resolving it takes it off and changes the open count."""
    to_inboxes = []
    monkeypatch.setattr(live, "push_inbox", to_inboxes.append)
    contact = make_contact(make_tenant())
    contact.status = Contact.Status.RESOLVED
    contact.escalated_at = timezone.now()
    live.push_inbox_on_commit(contact)
    assert to_inboxes == [contact.pk]


# --- failures stay in the push ------------------------------------------------------


@pytest.fixture
def someone_watches(monkeypatch):
    monkeypatch.setattr(live, "has_listeners", lambda group: True)


@pytest.fixture
def refusing_layer(monkeypatch):
    async def refuse(messages):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(live, "_send", refuse)


def test_a_failed_panel_push_is_logged_and_never_raised(someone_watches, refusing_layer, caplog):
    live.push_inbox_on_commit(_resolved_by_the_agent())
    assert "Live contact push failed" in caplog.text


def test_a_failed_inbox_push_is_logged_and_never_raised(refusing_layer, caplog):
    contact = make_contact(make_tenant())
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.ESCALATED, escalated_at=timezone.now()
    )
    live.push_inbox(contact.pk)
    assert "Live inbox push failed" in caplog.text


def test_a_failed_send_scheduled_on_a_running_loop_is_logged(refusing_layer, caplog):
    async def scenario():
        live.send_to_groups([("a", {"type": "x"})])
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert "Live push failed" in caplog.text


def test_a_send_that_hangs_is_given_up_and_cancelled(someone_watches, monkeypatch, caplog):
    """The caller's task has work to do; the hung send does not linger on the loop."""
    cancelled = threading.Event()

    async def hang(messages):
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(live, "_send", hang)
    monkeypatch.setattr(live, "SEND_TIMEOUT_SECONDS", 0.1)
    started = time.monotonic()
    live.push_inbox_on_commit(_resolved_by_the_agent())
    assert time.monotonic() - started < 2
    assert "Live contact push failed" in caplog.text
    wait_for(cancelled.is_set, timeout=5)
