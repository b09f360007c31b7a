"""CSAT: a one-click survey after resolution, reached through a signed link.

The customer never logs in, so the link itself is the credential: a signed,
expiring token naming the contact. Nothing secret is in it (only the contact's
public id), and it cannot be forged or pointed at another contact."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from desk import rollups
from desk.models import Contact, CsatResponse, Message
from tenants.actions import audit
from tenants.actor import Actor

SALT = "desk.csat"
# Long enough for a customer back from holiday; short enough that old links die.
TOKEN_MAX_AGE = 60 * 60 * 24 * 30
SCORES = (1, 2, 3, 4, 5)


def make_token(contact: Contact) -> str:
    return signing.dumps(str(contact.public_id), salt=SALT, compress=False)


def contact_for_token(token: str) -> Contact | None:
    """The resolved contact a survey link points at, or None for a forged, expired
    or unknown link (one answer for all three, so a probe learns nothing)."""
    try:
        public_id = signing.loads(token, salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return (
        Contact.objects.select_related("tenant")
        .filter(public_id=public_id, status=Contact.Status.RESOLVED)
        .first()
    )


def survey_url(contact: Contact) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "desk:csat", kwargs={"token": make_token(contact)}
    )


def survey(contact: Contact, resolved_at: datetime) -> Message:
    """The survey, as an outbound message on the resolved contact (not yet saved): the
    resolving transaction writes it with the answer, and delivery by the contact's own
    channel picks it up like any reply.

    Dated at the resolution itself, just before the answer written a moment later, so
    the answer stays the contact's latest wherever "last outbound" is read."""
    return Message(
        contact=contact,
        created_at=resolved_at,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.Author.AGENT,
        body=(
            f"How did we do? One click tells us: {survey_url(contact)}\n"
            "Rate us from 1 to 5; a comment is welcome but optional."
        ),
        raw={"kind": "csat_survey"},
    )


# Why a survey waits in the outbox (OutboundMessage.defer_reason).
DEFER_REASON = "csat_delay"


def is_survey(message: Message) -> bool:
    return (message.raw or {}).get("kind") == "csat_survey"


def due_at(contact: Contact, message: Message) -> datetime | None:
    """When a survey may leave: the merchant's delay after the resolution it is dated
    at, so the customer rates an answer they have seen hold. None: at once (no delay
    set, or not a survey)."""
    hours = contact.tenant.csat_survey_delay_hours
    if not hours or not is_survey(message):
        return None
    return message.created_at + timedelta(hours=hours)


@transaction.atomic
def record_response(contact: Contact, *, score: int, comment: str = "") -> CsatResponse:
    """Store the customer's rating, once per contact: a second click changes the
    score (people mis-click), and an empty comment never erases an earlier one."""
    if score not in SCORES:
        raise ValueError("A score is a whole number from 1 to 5")
    response = CsatResponse.objects.select_for_update().filter(contact=contact).first()
    if response is None:
        response = CsatResponse(
            tenant_id=contact.tenant_id, contact=contact, resolution=contact.resolution or ""
        )
    response.score = score
    if comment.strip():
        response.comment = comment.strip()[:2000]
    response.save()
    # A changed score moves the figures of the day the first answer came in.
    rollups.note_change(contact.tenant, response.created_at)
    audit(contact.tenant, Actor.system("customer"), "contact.csat", contact, {"score": score})
    return response
