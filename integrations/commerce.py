"""One interface to every commerce platform, and the mirror every platform writes to.

An adapter is what the agent and the executors talk to: it declares the
capabilities its platform has (Shopify can create returns, the sandbox store
cannot), finds orders, and carries out actions keyed by an idempotency key.
Adding a platform is a sub-package with ``client.py`` (HTTP only),
``mapping.py`` (their payloads into the dataclasses below), ``webhooks.py``
and ``provider.py`` declaring it (see ``integrations.providers``).

The dataclasses here are the common shape every mapping produces; the
``apply_*`` functions write them into the mirror tables, and never let an
older event overwrite newer state (see ``MirrorVersion``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Self, TypeVar

from django.db import IntegrityError, transaction

from integrations import access
from integrations.actions import record_tracking_event
from integrations.models import (
    Connection,
    Customer,
    MirrorVersion,
    Order,
    OrderLine,
    Refund,
    Shipment,
    TrackingStatus,
)

if TYPE_CHECKING:
    from tenants.models import Tenant


class Capability(StrEnum):
    FIND_ORDER = "find_order"  # by number or customer email
    LIST_ORDERS = "list_orders"  # a customer's recent orders
    ORDER_DETAIL = "order_detail"  # lines, fulfilments, tracking numbers
    REFUND = "refund"  # an amount back to the original payment, with an idempotency key
    REFUND_LINES = "refund_lines"  # a refund naming the items it pays back (restocked)
    REFUND_SHIPPING = "refund_shipping"  # a refund naming the shipping it pays back
    REFUND_TO_STORE_CREDIT = "refund_to_store_credit"  # the refund paid as store credit
    CANCEL = "cancel"
    UPDATE_ADDRESS = "update_address"  # shipping address, before fulfilment
    CREATE_RETURN = "create_return"
    REPLACEMENT = "replacement"  # a zero-priced order for the same items
    STORE_CREDIT = "store_credit"  # an amount on the customer's store credit account
    WEBHOOKS = "webhooks"  # orders, fulfilments and refunds flow in on their own


class ExecutionError(Exception):
    """The store refused or failed; ``permanent`` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class ExecutionResult:
    external_id: str
    detail: dict = field(default_factory=dict)

    def with_detail(self, **more) -> ExecutionResult:
        return ExecutionResult(self.external_id, {**self.detail, **more})


@dataclass(frozen=True)
class Address:
    name: str
    address1: str
    city: str
    country_code: str
    zip: str = ""
    address2: str = ""
    province_code: str = ""
    phone: str = ""
    company: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class LineRequest:
    """An order line picked for a return or a replacement, by SKU as the mirror knows it."""

    sku: str
    quantity: int = 1
    reason: str = ""


@dataclass(frozen=True)
class RefundParts:
    """What a refund pays back when it is more than an amount: the items (by SKU,
    restocked where the store restocks), the shipping, and whether the money goes
    to the customer's store credit instead of the original payment. The refund's
    amount stays the total the guardrails approved; the parts only say what it is for."""

    lines: tuple[LineRequest, ...] = ()
    shipping: Decimal = Decimal("0")
    to_store_credit: bool = False

    def needs(self) -> set[Capability]:
        """The capabilities beyond REFUND a store must have to honour these parts."""
        wanted = set()
        if self.lines:
            wanted.add(Capability.REFUND_LINES)
        if self.shipping:
            wanted.add(Capability.REFUND_SHIPPING)
        if self.to_store_credit:
            wanted.add(Capability.REFUND_TO_STORE_CREDIT)
        return wanted


# --- the common shape every mapping produces -------------------------------


@dataclass
class CustomerData:
    email: str
    name: str = ""
    phone: str = ""
    external_id: str = ""


@dataclass
class LineData:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    product_type: str = ""
    external_id: str = ""


@dataclass
class FulfillmentData:
    external_id: str
    order_external_id: str
    carrier: str
    tracking_numbers: list[str]
    status: str = ""  # a TrackingStatus value, or "" when the platform does not say
    occurred_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class OrderData:
    external_id: str
    number: str
    email: str
    currency: str
    subtotal: Decimal
    total: Decimal
    placed_at: datetime
    shipping_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    financial_status: str = ""
    fulfillment_status: str = ""
    sales_channel: str = "online_store"
    shipping_address: dict[str, Any] = field(default_factory=dict)
    cancelled_at: datetime | None = None
    customer: CustomerData | None = None
    lines: list[LineData] = field(default_factory=list)
    fulfillments: list[FulfillmentData] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class RefundData:
    external_id: str
    order_external_id: str
    amount: Decimal
    currency: str
    note: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


# --- adapters ----------------------------------------------------------------


class CommerceAdapter:
    """What the desk can do on one tenant's store.

    Reads come from the mirror first (fast, and the agent needs them in well
    under a second); adapters with a live API fall back to it. Every action
    takes an idempotency key so a retry lands once. An action the platform
    lacks raises a permanent ``ExecutionError`` naming the platform."""

    provider: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, tenant: Tenant, connection: Connection | None = None) -> None:
        self.tenant = tenant
        self.connection = connection

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def unsupported(self, capability: Capability) -> ExecutionError:
        return ExecutionError(
            f"{self.provider} connections cannot {capability.value.replace('_', ' ')}",
            permanent=True,
        )

    def _mirror(self) -> Any:
        orders = Order.objects.filter(tenant=self.tenant)
        if self.connection is not None:
            orders = orders.filter(connection=self.connection)
        return orders

    def find_order(self, number: str) -> Order | None:
        normalized = access.normalize_order_number(number)
        if not normalized:
            return None
        return self._mirror().filter(number__iexact=normalized).first()

    def orders_for_email(self, email: str, *, limit: int = 5) -> list[Order]:
        if not email:
            return []
        return list(self._mirror().filter(email__iexact=email).order_by("-placed_at")[:limit])

    def order_detail(self, order: Order) -> Order:
        """The order with its lines, shipments (tracking numbers) and refunds loaded."""
        return Order.objects.prefetch_related("lines", "shipments", "refunds").get(pk=order.pk)

    def refund(
        self,
        order: Order,
        amount: Decimal,
        *,
        idempotency_key: str,
        note: str,
        parts: RefundParts | None = None,
    ) -> ExecutionResult:
        """``amount`` back to the original payment; ``parts`` (only when the store
        declares the capabilities they need) names the lines and shipping it
        pays for, or sends it to store credit."""
        raise self.unsupported(Capability.REFUND)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        raise self.unsupported(Capability.CANCEL)

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        raise self.unsupported(Capability.UPDATE_ADDRESS)

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        raise self.unsupported(Capability.CREATE_RETURN)

    def create_replacement(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        raise self.unsupported(Capability.REPLACEMENT)

    def store_credit(
        self, order: Order, amount: Decimal, *, idempotency_key: str, note: str
    ) -> ExecutionResult:
        raise self.unsupported(Capability.STORE_CREDIT)


# What every adapter with a live API reads.
READS = frozenset({Capability.FIND_ORDER, Capability.LIST_ORDERS, Capability.ORDER_DETAIL})


def marker(idempotency_key: str, *, length: int = 24) -> str:
    """What we write on a record the store keeps (a refund reason, a tag, a
    comment) so that a later attempt of the same action finds it: for stores
    whose API takes no idempotency key of its own."""
    return "desk-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:length]


class PlatformClient(Protocol):
    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> Self: ...


ClientT = TypeVar("ClientT", bound=PlatformClient)


class ApiCommerceAdapter(CommerceAdapter, Generic[ClientT]):
    """An adapter with the platform's API behind the mirror.

    A platform names its client class and how its name reads in messages
    (``label``), and fills in how an order missing from the mirror is
    fetched from the store and mirrored (``fetch_order``,
    ``fetch_orders_for_email``). The mirror always answers first: the agent
    needs most reads well under a second."""

    client_class: type[ClientT]
    label: ClassVar[str]
    needs_connection: ClassVar[str] = "A {label} order needs its connection"

    _client: ClientT | None = None

    @property
    def client(self) -> ClientT:
        if self._client is None:
            if self.connection is None:
                raise ExecutionError(self.needs_connection.format(label=self.label), permanent=True)
            self._client = self.client_class.for_credentials(self.connection.credentials)
        return self._client

    def _order_id(self, order: Order) -> str:
        if not order.external_id:
            raise ExecutionError(f"Order #{order.number} has no {self.label} id", permanent=True)
        return order.external_id

    # --- reads -----------------------------------------------------------

    def find_order(self, number: str) -> Order | None:
        found = super().find_order(number)
        if found is not None or self.connection is None:
            return found
        return self.fetch_order(number)

    def fetch_order(self, number: str) -> Order | None:
        """The order the customer calls ``number``, read from the store and
        mirrored; None when the store does not know it."""
        return None

    def orders_for_email(self, email: str, *, limit: int = 5) -> list[Order]:
        found = super().orders_for_email(email, limit=limit)
        if found or self.connection is None or not email:
            return found
        return [o for o in self.fetch_orders_for_email(email, limit=limit) if o is not None]

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterable[Order | None]:
        """The customer's recent orders read from the store, each mirrored."""
        return ()

    def _apply(self, data: OrderData, *, version_at: datetime | None) -> Order | None:
        applied = apply_order(self.connection, data, version_at=version_at)
        if applied is not None:
            return applied
        # A newer state of this order (a webhook, a later read) is already mirrored.
        return Order.objects.filter(
            tenant=self.tenant, connection=self.connection, external_id=data.external_id
        ).first()

    # --- refunds ---------------------------------------------------------

    def _replayed_refund(self, order: Order, idempotency_key: str) -> ExecutionResult | None:
        """The refund already mirrored under this key, so the store is not asked again."""
        mirrored = Refund.objects.filter(
            tenant=order.tenant, idempotency_key=idempotency_key
        ).first()
        if mirrored is None:
            return None
        return ExecutionResult(mirrored.external_id, {"replayed": True})

    def _adopt_marked_refund(
        self,
        order: Order,
        amount: Decimal,
        store_refunds,
        *,
        idempotency_key: str,
        note: str,
        refund_id,
    ) -> ExecutionResult | None:
        """Among the store's refunds of the order, the one an earlier attempt made
        (our marker in its reason), mirrored now; None when there is none."""
        tag = marker(idempotency_key)
        for existing in store_refunds:
            if tag in str(existing.get("reason") or ""):
                return self._adopt_refund(
                    order,
                    amount,
                    idempotency_key=idempotency_key,
                    external_id=refund_id(existing["id"]),
                    note=note,
                )
        return None

    def _adopt_refund(
        self, order: Order, amount: Decimal, *, idempotency_key: str, external_id: str, note: str
    ) -> ExecutionResult:
        """Mirror a refund an earlier attempt made on the store, whose answer was lost."""
        refund = record_executed_refund(
            order, amount, idempotency_key=idempotency_key, external_id=external_id, note=note
        )
        return ExecutionResult(refund.external_id, {"replayed": True})


def check_refundable(order: Order, amount: Decimal) -> None:
    if amount > order.refundable_remainder:
        raise ExecutionError(
            f"Refund {amount} exceeds the refundable remainder {order.refundable_remainder}",
            permanent=True,
        )


def adapter_class(provider: str) -> type[CommerceAdapter]:
    from integrations import providers

    spec = providers.find(provider)
    if spec is None or not spec.adapter:
        raise ExecutionError(f"No commerce adapter for provider {provider!r}", permanent=True)
    return spec.adapter_class()


def adapter_for_order(order: Order) -> CommerceAdapter:
    """The adapter of the store the order lives in; the sandbox store when it has no connection."""
    connection = order.connection
    provider = connection.provider if connection else Connection.Provider.SANDBOX
    return adapter_class(provider)(order.tenant, connection)


def adapter_for_connection(connection: Connection) -> CommerceAdapter:
    return adapter_class(connection.provider)(connection.tenant, connection)


# --- the mirror --------------------------------------------------------------


def claim_version(
    connection: Connection, resource: str, external_id: str, version_at: datetime | None
) -> bool:
    """True when an event stamped ``version_at`` may be applied to this resource.

    Call inside a transaction: the row lock makes concurrent deliveries of the
    same resource apply one after the other, and an event older than the one
    already applied is refused. Equal stamps are allowed so a replay is harmless."""
    if version_at is None:
        return True
    try:
        with transaction.atomic():
            MirrorVersion.objects.create(
                connection=connection,
                resource=resource,
                external_id=external_id,
                version_at=version_at,
            )
        return True
    except IntegrityError:
        pass
    current = MirrorVersion.objects.select_for_update().get(
        connection=connection, resource=resource, external_id=external_id
    )
    if version_at < current.version_at:
        return False
    current.version_at = version_at
    current.save(update_fields=["version_at", "updated_at"])
    return True


def _upsert_customer(tenant: Tenant, data: CustomerData | None) -> Customer | None:
    if data is None or not data.email:
        return None
    customer, created = Customer.objects.get_or_create(
        tenant=tenant,
        email=data.email.lower(),
        defaults={"name": data.name, "phone": data.phone, "external_id": data.external_id},
    )
    if not created and data.external_id and not customer.external_id:
        customer.external_id = data.external_id
        customer.save(update_fields=["external_id"])
    return customer


@transaction.atomic
def apply_order(
    connection: Connection, data: OrderData, *, version_at: datetime | None
) -> Order | None:
    """Create or update the mirrored order, its lines and fulfilments.

    Returns None (and changes nothing) when a newer state of this order was
    already applied."""
    if not claim_version(connection, "order", data.external_id, version_at):
        return None
    tenant = connection.tenant
    customer = _upsert_customer(tenant, data.customer)
    fields = {
        "connection": connection,
        "external_id": data.external_id,
        "number": data.number,
        "email": data.email,
        "currency": data.currency,
        "subtotal": data.subtotal,
        "shipping_total": data.shipping_total,
        "tax_total": data.tax_total,
        "total": data.total,
        "financial_status": data.financial_status[:32],
        "fulfillment_status": data.fulfillment_status[:32],
        "sales_channel": data.sales_channel[:32],
        "shipping_address": data.shipping_address,
        "placed_at": data.placed_at,
        "cancelled_at": data.cancelled_at,
        "raw": data.raw,
    }
    if customer is not None:
        fields["customer"] = customer
    order = (
        Order.objects.select_for_update()
        .filter(tenant=tenant, connection=connection, external_id=data.external_id)
        .first()
    ) or Order.objects.select_for_update().filter(tenant=tenant, number=data.number).first()
    if order is None:
        order = Order.objects.create(tenant=tenant, **fields)
    else:
        for name, value in fields.items():
            setattr(order, name, value)
        order.save()
        # Lines have no identity of their own in the mirror: the store's list wins.
        order.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=line.sku[:64],
            title=line.title[:200],
            product_type=line.product_type[:64],
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in data.lines
    )
    for fulfillment in data.fulfillments:
        _apply_fulfillment_to(order, fulfillment)
    return order


def _apply_fulfillment_to(order: Order, data: FulfillmentData) -> list[Shipment]:
    shipments = []
    for number in data.tracking_numbers:
        if not number:
            continue
        shipment, _ = Shipment.objects.get_or_create(
            tenant=order.tenant,
            carrier=data.carrier[:32],
            tracking_number=number[:64],
            defaults={"order": order},
        )
        if data.status in TrackingStatus.values and data.occurred_at is not None:
            # The platform's coarse status joins the carrier's scans; it never
            # moves a shipment backwards (record_tracking_event orders by time).
            record_tracking_event(
                shipment,
                occurred_at=data.occurred_at,
                status=data.status,
                description=f"Store reports {data.status.replace('_', ' ')}",
                carrier_code=f"store:{data.status}"[:32],
                raw=data.raw,
            )
        shipments.append(shipment)
    return shipments


class UnknownOrder(LookupError):
    """An event refers to an order the mirror does not hold (yet)."""


@transaction.atomic
def apply_fulfillment(
    connection: Connection, data: FulfillmentData, *, version_at: datetime | None
) -> list[Shipment] | None:
    """Attach the fulfilment's tracking numbers to the mirrored order; None when stale."""
    order = Order.objects.filter(
        tenant=connection.tenant, connection=connection, external_id=data.order_external_id
    ).first()
    if order is None:
        raise UnknownOrder(f"Order {data.order_external_id} is not mirrored")
    if not claim_version(connection, "fulfillment", data.external_id, version_at):
        return None
    return _apply_fulfillment_to(order, data)


@transaction.atomic
def apply_refund(connection: Connection, data: RefundData) -> Refund | None:
    """Mirror a refund made on the store, once.

    A refund we executed ourselves is already mirrored under our idempotency
    key with the store's id; the store's own notification of it must not count
    it a second time. The order row lock serialises this with the executor."""
    order = (
        Order.objects.select_for_update()
        .filter(tenant=connection.tenant, connection=connection, external_id=data.order_external_id)
        .first()
    )
    if order is None:
        raise UnknownOrder(f"Order {data.order_external_id} is not mirrored")
    if data.amount <= 0:
        return None  # a restock-only refund moves no money
    existing = Refund.objects.filter(tenant=order.tenant, external_id=data.external_id).first()
    if existing is not None:
        return existing
    return Refund.objects.create(
        tenant=order.tenant,
        order=order,
        amount=data.amount,
        currency=data.currency or order.currency,
        idempotency_key=f"{connection.provider}:{data.external_id}"[:128],
        external_id=data.external_id[:64],
        note=data.note[:255],
    )


def record_executed_refund(
    order: Order, amount: Decimal, *, idempotency_key: str, external_id: str, note: str
) -> Refund:
    """Mirror a refund the store just confirmed for us. Idempotent on the key,
    and adopts the row the store's webhook may have written first."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        mine = Refund.objects.filter(tenant=locked.tenant, idempotency_key=idempotency_key).first()
        if mine is not None:
            return mine
        theirs = Refund.objects.filter(tenant=locked.tenant, external_id=external_id).first()
        if theirs is not None:
            theirs.idempotency_key = idempotency_key
            theirs.note = theirs.note or note[:255]
            theirs.save(update_fields=["idempotency_key", "note"])
            return theirs
        return Refund.objects.create(
            tenant=locked.tenant,
            order=locked,
            amount=amount,
            currency=locked.currency,
            idempotency_key=idempotency_key,
            external_id=external_id[:64],
            note=note[:255],
        )
