"""Risk signals: reasons not to let the agent move money or goods on its own.

Each signal is computed from system data (refunds on the store, our own contact
history, the order's addresses and tags, past specialist decisions). The
customer's text may only *add* caution: it tells us whether the contact is an
unverifiable claim (never arrived, arrived damaged), never that a signal is
clear. Every raised signal carries an explanation a specialist can check.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from desk.models import Contact, Decision, Intent, Message
from integrations.models import Customer, Order
from tenants.models import Tenant

VELOCITY_DAYS = 30
VELOCITY_MAX_REFUNDS = 2
CLAIM_HISTORY_DAYS = 180
NEW_CUSTOMER_DAYS = 30
FLAG_TAGS = {"fraud", "flagged", "blocklist", "blocked", "chargeback", "do-not-refund", "risk"}

NOT_RECEIVED = re.compile(
    r"\b(never (arrived|came|got|received)|not (arrived|received|delivered)|"
    r"didn'?t (get|receive|arrive)|did not (get|receive|arrive)|haven'?t (got|received)|"
    r"have not (got|received)|no package|wasn'?t delivered|was not delivered|"
    r"(says|shows|marked) (as )?delivered|stolen|missing (package|parcel))",
    re.IGNORECASE,
)
DAMAGED = re.compile(r"\b(damaged|broken|smashed|cracked|crushed|shattered|dented)\b", re.I)


@dataclass(frozen=True)
class Signal:
    name: str
    explanation: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def claim_kind(text: str, intent: str) -> str | None:
    """Which unverifiable claim the contact makes, if any: 'not_received' or 'damaged'."""
    if NOT_RECEIVED.search(text or ""):
        return "not_received"
    if intent in (Intent.REPLACEMENT_REQUEST, Intent.DELIVERY_EXCEPTION) and DAMAGED.search(
        text or ""
    ):
        return "damaged"
    return None


def high_value_line(tenant: Tenant) -> Decimal:
    """Orders from this value up are 'high value': twice the tenant's auto-refund limit."""
    return tenant.auto_refund_limit * 2


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _email(order: Order | None, customer: Customer | None, contact: Contact | None) -> str:
    for candidate in (
        contact.customer_email if contact else "",
        customer.email if customer else "",
        order.email if order else "",
    ):
        if candidate:
            return candidate.lower()
    return ""


@dataclass(frozen=True)
class CustomerFacts:
    """A customer's past with the merchant, found by email address (in any case): what
    the customer history shows and the risk signals weigh, read in one query."""

    orders: int
    contacts_90d: int  # besides the contact in hand, counted up to CONTACTS_COUNTED
    refunds_90d: int
    refunded_90d: Decimal
    velocity_refunds: int  # in the last VELOCITY_DAYS
    velocity_refunded: Decimal
    fraud_rejections: int  # earlier requests a specialist turned down for fraud, this year


HISTORY_DAYS = 90
# A customer's earlier contacts are counted up to here: past it the number tells a
# specialist nothing more ("50+"), and someone writing hundreds of times must not
# make each new contact read all of their earlier ones.
CONTACTS_COUNTED = 50
FRAUD_MEMORY_DAYS = 365

# Addresses are matched as their indexes are built: (tenant, UPPER(email)). Every
# count starts from the customer: their refunds are found through their orders (the
# refunds' order index; an order is one merchant's), never by filtering all of the
# merchant's refunds, and fraud rejections through the merchant's few (a partial
# index). Written so that no statistics, stale ones or a prepared statement's generic
# plan, can lead PostgreSQL to read the merchant's whole history for one contact.
_CUSTOMER_FACTS_SQL = f"""
WITH orders AS MATERIALIZED (
  SELECT o.id FROM integrations_order o
   WHERE o.tenant_id = %(tenant)s AND UPPER(o.email::text) = UPPER(%(email)s)
), refunds AS MATERIALIZED (
  SELECT r.amount, r.created_at
    FROM orders o
    CROSS JOIN LATERAL (
      SELECT r.amount, r.created_at FROM integrations_refund r
       WHERE r.order_id = o.id AND r.created_at >= %(history)s
    ) r
)
SELECT
  (SELECT COUNT(*) FROM orders),
  (SELECT COUNT(*) FROM (
     SELECT FROM desk_contact c
      WHERE c.tenant_id = %(tenant)s AND UPPER(c.customer_email::text) = UPPER(%(email)s)
        AND c.created_at >= %(history)s AND c.id <> %(besides)s
      LIMIT %(contacts_counted)s) earlier),
  (SELECT COUNT(*) FROM refunds),
  (SELECT COALESCE(SUM(amount), 0) FROM refunds),
  (SELECT COUNT(*) FROM refunds WHERE created_at >= %(velocity)s),
  (SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE created_at >= %(velocity)s),
  (SELECT COUNT(*) FROM desk_decision d
     JOIN desk_proposal p ON p.id = d.proposal_id
     JOIN desk_contact c ON c.id = p.contact_id
    WHERE d.tenant_id = %(tenant)s AND d.reason_code = '{Decision.Reason.FRAUD_RISK.value}'
      AND d.created_at >= %(fraud_since)s
      AND UPPER(c.customer_email::text) = UPPER(%(email)s))
"""  # noqa: S608 (the inlined reason is a code constant, so the partial index applies)


def customer_facts(
    tenant: Tenant, email: str, *, besides_contact: int | None = None, now=None
) -> CustomerFacts | None:
    """Every count the agent needs about one address, in one statement instead of
    five. None without an address: someone known only by phone has no history to
    count by it."""
    if not email:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            _CUSTOMER_FACTS_SQL, _customer_facts_values(tenant, email, besides_contact, now)
        )
        return CustomerFacts(*cursor.fetchone())


def _customer_facts_values(
    tenant: Tenant, email: str, besides_contact: int | None = None, now=None
) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "tenant": tenant.pk,
        "email": email,
        "besides": besides_contact or 0,
        "contacts_counted": CONTACTS_COUNTED,
        "history": now - timedelta(days=HISTORY_DAYS),
        "velocity": now - timedelta(days=VELOCITY_DAYS),
        "fraud_since": now - timedelta(days=FRAUD_MEMORY_DAYS),
    }


def _tags(value: Any) -> set[str]:
    if isinstance(value, str):
        return {t.strip().lower() for t in value.split(",") if t.strip()}
    if isinstance(value, list):
        return {str(t).strip().lower() for t in value}
    return set()


def _address_key(address: Any) -> tuple[str, str] | None:
    if not isinstance(address, dict) or not address:
        return None
    country = str(address.get("country_code") or address.get("country") or "").strip().upper()
    postcode = str(address.get("zip") or address.get("postal_code") or "").replace(" ", "").upper()
    if not country and not postcode:
        return None
    return country, postcode


def assess(
    tenant: Tenant,
    *,
    order: Order | None,
    customer: Customer | None,
    contact: Contact | None = None,
    claim: str | None = None,
    facts: CustomerFacts | None = None,
) -> list[Signal]:
    """The raised risk signals for this contact, in a stable order. Read-only.
    ``facts`` are the customer's, if the caller has just read them for this address
    (``risk_email``); otherwise they are read here."""
    now = timezone.now()
    email = _email(order, customer, contact)
    signals: list[Signal] = []
    if email and facts is None:
        facts = customer_facts(
            tenant, email, besides_contact=contact.pk if contact else None, now=now
        )

    # Refund velocity: refunds the store made to this customer recently.
    if facts is not None and facts.velocity_refunds >= VELOCITY_MAX_REFUNDS:
        signals.append(
            Signal(
                "refund_velocity",
                f"{facts.velocity_refunds} refunds totalling "
                f"{_money(facts.velocity_refunded)} in the last {VELOCITY_DAYS} days "
                f"(more than {VELOCITY_MAX_REFUNDS - 1} needs a human).",
            )
        )

    # Repeat not-received claims: this contact claims non-delivery and so did earlier ones.
    if claim == "not_received" and email:
        earlier = Message.objects.filter(
            contact__tenant=tenant,
            contact__customer_email__iexact=email,
            contact__created_at__gte=now - timedelta(days=CLAIM_HISTORY_DAYS),
            direction=Message.Direction.INBOUND,
        )
        if contact is not None:
            earlier = earlier.exclude(contact=contact)
        claimed = {
            m.contact_id for m in earlier.only("contact_id", "body") if NOT_RECEIVED.search(m.body)
        }
        if claimed:
            signals.append(
                Signal(
                    "repeat_not_received",
                    f"Claims this order never arrived, after {len(claimed)} earlier "
                    f"not-received claim(s) in the last {CLAIM_HISTORY_DAYS} days.",
                )
            )

    # High value: a mistake on a big order costs more than a human's time.
    if order is not None and order.total >= high_value_line(tenant):
        signals.append(
            Signal(
                "high_value",
                f"Order total {_money(order.total)} {order.currency} is at or above the "
                f"high-value line of {_money(high_value_line(tenant))} (twice the auto-refund "
                "limit).",
            )
        )

    # New customer making a claim nobody can verify (first order, no history).
    if claim and order is not None:
        owner = Q(email__iexact=email) if email else Q(pk=order.pk)
        orders = Order.objects.filter(owner, tenant=tenant)
        first = orders.order_by("placed_at").values_list("placed_at", flat=True).first()
        earlier_orders = orders.exclude(pk=order.pk).count()
        if earlier_orders == 0 and first and first >= now - timedelta(days=NEW_CUSTOMER_DAYS):
            what = "never arrived" if claim == "not_received" else "arrived damaged"
            signals.append(
                Signal(
                    "new_customer",
                    f"First order with this merchant, placed {(now - first).days} days ago, "
                    f"and the customer says it {what}.",
                )
            )

    # Address mismatch: billing and shipping addresses in different places.
    if order is not None:
        raw = order.raw if isinstance(order.raw, dict) else {}
        shipping = _address_key(order.shipping_address) or _address_key(raw.get("shipping_address"))
        billing = _address_key(raw.get("billing_address"))
        if (
            shipping
            and billing
            and (
                (shipping[0] and billing[0] and shipping[0] != billing[0])
                or (shipping[1] and billing[1] and shipping[1] != billing[1])
            )
        ):
            signals.append(
                Signal(
                    "address_mismatch",
                    f"Shipping address ({' '.join(p for p in shipping if p)}) differs from the "
                    f"billing address ({' '.join(p for p in billing if p)}).",
                )
            )

    # Flagged customer: the merchant tagged them, or a specialist rejected them for fraud.
    flagged = _flag_reason(order, facts)
    if flagged:
        signals.append(Signal("flagged_customer", flagged))
    return signals


def _flag_reason(order: Order | None, facts: CustomerFacts | None) -> str:
    if order is not None:
        raw = order.raw if isinstance(order.raw, dict) else {}
        customer_raw = raw.get("customer") if isinstance(raw.get("customer"), dict) else {}
        tags = (_tags(raw.get("tags")) | _tags(customer_raw.get("tags"))) & FLAG_TAGS
        if tags:
            return f"The store tags this customer or order as {', '.join(sorted(tags))}."
    if facts is not None and facts.fraud_rejections:
        return (
            f"A specialist turned down {facts.fraud_rejections} earlier request(s) "
            "for fraud risk this year."
        )
    return ""


def risk_email(order: Order | None, customer: Customer | None, contact: Contact | None) -> str:
    """The address the signals judge the customer by."""
    return _email(order, customer, contact)


def as_evidence(signals: list[Signal]) -> list[dict[str, str]]:
    return [s.as_dict() for s in signals]


def contact_text(contact: Contact) -> str:
    inbound = contact.messages.filter(direction=Message.Direction.INBOUND).order_by("created_at")
    return "\n".join([contact.subject, *[m.body for m in inbound]])
