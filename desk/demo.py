"""Demo merchants, people and a realistic stream of contacts and carrier scans.

Everything here is made up for the sandbox: three merchants with their own
catalogues, carriers and autonomy settings, orders in every tracking state,
and customers who write the way customers do (short, misspelled, sometimes
in another language, sometimes without an order number)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Contract
from desk import actions as desk_actions
from integrations.actions import record_tracking_event
from integrations.models import Connection, Customer, Order, OrderLine, Shipment, TrackingStatus
from tenants import actions as tenant_actions
from tenants.actor import Actor
from tenants.models import ApiKey, Tenant, User
from tenants.roles import Role

DEMO_PASSWORD = "desk-demo-2026"  # noqa: S105 - printed for the demo on purpose
SYSTEM = Actor.system("demo")


@dataclass(frozen=True)
class Merchant:
    slug: str
    name: str
    currency: str
    time_zone: str
    locale: str
    prefix: str
    first_number: int
    carriers: tuple[tuple[str, str, str], ...]  # (code, city, country)
    catalogue: tuple[tuple[str, str, str, str], ...]  # (sku, title, type, price)
    auto_refund_limit: str
    ai_price: str
    human_price: str


MERCHANTS = (
    Merchant(
        slug="northwind",
        name="Northwind Outfitters",
        currency="USD",
        time_zone="America/New_York",
        locale="en",
        prefix="",
        first_number=1001,
        carriers=(
            ("ups", "Louisville", "US"),
            ("usps", "Memphis", "US"),
            ("fedex", "Indianapolis", "US"),
        ),
        catalogue=(
            ("NW-PARKA-M", "Summit down parka", "outerwear", "289.00"),
            ("NW-BOOT-10", "Trailhead hiking boots", "footwear", "164.00"),
            ("NW-FLEECE-L", "Ridge fleece pullover", "tops", "79.00"),
            ("NW-SOCK-3P", "Merino socks, 3 pack", "accessories", "24.00"),
            ("NW-TENT-2", "Two-person tent", "gear", "349.00"),
            ("NW-BEANIE", "Rib knit beanie", "accessories", "22.00"),
        ),
        auto_refund_limit="200",
        ai_price="1.40",
        human_price="5.20",
    ),
    Merchant(
        slug="kettle",
        name="Kettle & Crumb",
        currency="GBP",
        time_zone="Europe/London",
        locale="en-GB",
        prefix="KC-",
        first_number=2001,
        carriers=(
            ("royalmail", "Manchester", "GB"),
            ("dpd", "Birmingham", "GB"),
            ("evri", "Leeds", "GB"),
        ),
        catalogue=(
            ("KC-STAND-MIX", "Stand mixer, 5 l", "appliances", "329.00"),
            ("KC-DUTCH-26", "Cast iron casserole 26 cm", "cookware", "185.00"),
            ("KC-KNIFE-CH", "Chef's knife 20 cm", "knives", "89.00"),
            ("KC-TEA-TIN", "Loose leaf tea tin", "pantry", "14.50"),
            ("KC-BOARD-OAK", "Oak chopping board", "tools", "45.00"),
        ),
        auto_refund_limit="150",
        ai_price="1.10",
        human_price="4.80",
    ),
    Merchant(
        slug="lumen",
        name="Lumen Audio",
        currency="EUR",
        time_zone="Europe/Berlin",
        locale="de",
        prefix="LA-",
        first_number=3001,
        carriers=(
            ("dhl", "Leipzig", "DE"),
            ("gls", "Neuenstein", "DE"),
            ("dpd", "Aschaffenburg", "DE"),
        ),
        catalogue=(
            ("LA-HP-ANC", "Noise-cancelling headphones", "headphones", "299.00"),
            ("LA-SPK-MINI", "Mini bluetooth speaker", "speakers", "69.00"),
            ("LA-DAC-USB", "USB DAC amplifier", "electronics", "149.00"),
            ("LA-CBL-2M", "Braided cable 2 m", "accessories", "19.00"),
            ("LA-TT-1", "Turntable", "hifi", "449.00"),
        ),
        auto_refund_limit="250",
        ai_price="1.60",
        human_price="6.10",
    ),
)

PEOPLE = (
    (
        "specialist@demo.desk",
        "Sam",
        "Specialist",
        Role.SPECIALIST,
        ("northwind", "kettle", "lumen"),
    ),
    ("lead@demo.desk", "Lee", "Lead", Role.LEAD, ("northwind", "kettle", "lumen")),
    (
        "accounts@demo.desk",
        "Alex",
        "Accounts",
        Role.ACCOUNT_MANAGER,
        ("northwind", "kettle", "lumen"),
    ),
    ("merchant@northwind.demo", "Nora", "Northwind", Role.MERCHANT_ADMIN, ("northwind",)),
    ("admin@demo.desk", "Ada", "Admin", Role.ADMIN, ("northwind", "kettle", "lumen")),
)

FIRST_NAMES = [
    "Maya",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Lucas",
    "Sofia",
    "Ethan",
    "Chloe",
    "Mateo",
    "Hannah",
    "Jonas",
    "Léa",
    "Hugo",
    "Amara",
    "Kenji",
    "Priya",
    "Omar",
    "Isla",
    "Finn",
]
LAST_NAMES = [
    "Garcia",
    "Smith",
    "Müller",
    "Dubois",
    "Khan",
    "Rossi",
    "Nguyen",
    "Okafor",
    "Brown",
    "Silva",
    "Jensen",
    "Kowalski",
    "Haddad",
    "Ito",
    "Walsh",
]


def _derived(purpose: str, slug: str, length: int) -> str:
    """Stable demo secrets, so a second `make run` prints the same keys."""
    digest = hashlib.sha256(f"{purpose}:{slug}:{settings.SECRET_KEY}".encode()).hexdigest()
    return digest[:length]


def demo_api_key(slug: str) -> str:
    return f"{ApiKey.PREFIX}_{_derived('lookup', slug, 12)}_{_derived('secret', slug, 40)}"


def demo_webhook_secret(slug: str) -> str:
    return _derived("webhook", slug, 32)


# --- seeding -------------------------------------------------------------------


def seed(rng: random.Random | None = None) -> list[Tenant]:
    """Create the demo merchants, people, orders and contracts; a second run changes nothing."""
    rng = rng or random.Random(42)
    tenants = []
    for merchant in MERCHANTS:
        tenants.append(_seed_merchant(merchant, rng))
    by_slug = {t.slug: t for t in tenants}
    from agents.policy.demo import seed_demo_policies

    seed_demo_policies()
    from agents.nudges.demo import seed_demo_nudges

    seed_demo_nudges()
    for email, first, last, role, slugs in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
        for slug in slugs:
            if not user.memberships.filter(tenant=by_slug[slug]).exists():
                tenant_actions.add_member(by_slug[slug], user, role, SYSTEM)
    return tenants


@transaction.atomic
def _seed_merchant(m: Merchant, rng: random.Random) -> Tenant:
    tenant = Tenant.objects.filter(slug=m.slug).first()
    if tenant is not None:
        return tenant
    tenant = Tenant.objects.create(
        slug=m.slug,
        name=m.name,
        currency=m.currency,
        time_zone=m.time_zone,
        locale=m.locale,
        auto_refund_limit=Decimal(m.auto_refund_limit),
        autonomy_confirmed_at=timezone.now(),
        went_live_at=timezone.now(),
    )
    Contract.objects.create(
        tenant=tenant,
        currency=m.currency,
        ai_resolution_price=Decimal(m.ai_price),
        human_resolution_price=Decimal(m.human_price),
        deflection_floor=Decimal("0.700"),
        starts_on=date(2026, 1, 1),
    )
    tenant_actions.issue_api_key(tenant, "demo", SYSTEM, raw_key=demo_api_key(m.slug))
    Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SANDBOX,
        kind=Connection.Kind.COMMERCE,
        name="Sandbox store",
        credentials={},
    )
    Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SANDBOX_CARRIER,
        kind=Connection.Kind.CARRIER,
        name="Sandbox carrier feed",
        credentials={"webhook_secret": demo_webhook_secret(m.slug)},
    )
    customers = []
    for i in range(24):
        first, last = (
            FIRST_NAMES[(i * 7 + len(m.slug)) % 20],
            LAST_NAMES[(i * 5 + len(m.slug)) % 15],
        )
        customers.append(
            Customer.objects.create(
                tenant=tenant,
                email=f"{first.lower().replace('é', 'e')}.{last.lower().replace('ü', 'u')}{i}@example.com",
                name=f"{first} {last}",
                is_vip=i == 3,
            )
        )
    # A spread of situations; the first of each kind is a stable sample for demo_info.
    situations = (
        [TrackingStatus.IN_TRANSIT] * 10
        + [TrackingStatus.DELIVERED] * 10
        + [TrackingStatus.OUT_FOR_DELIVERY] * 3
        + [TrackingStatus.EXCEPTION] * 3
        + [TrackingStatus.PENDING] * 3
        + [TrackingStatus.FAILED_ATTEMPT] * 2
    )
    for index, status in enumerate(situations):
        big = index % 5 == 1
        make_order(tenant, m, customers[index % len(customers)], status, rng, big=big, stable=True)
    return tenant


def _next_number(tenant: Tenant, m: Merchant) -> str:
    count = Order.objects.filter(tenant=tenant).count()
    return f"{m.prefix}{m.first_number + count}"


def make_order(
    tenant: Tenant,
    m: Merchant,
    customer: Customer,
    status: str,
    rng: random.Random,
    *,
    big: bool = False,
    stable: bool = False,
) -> Order:
    """An order in the sandbox store with a shipment whose scans match ``status``."""
    now = timezone.now()
    catalogue = list(m.catalogue)
    if big:
        picks = [max(catalogue, key=lambda c: Decimal(c[3]))]
    else:
        cheap = [c for c in catalogue if Decimal(c[3]) < 120]
        picks = rng.sample(cheap, k=min(len(cheap), rng.randint(1, 2)))
    subtotal = sum(Decimal(p[3]) for p in picks)
    shipping = Decimal("0") if subtotal > 100 else Decimal("6.95")
    placed = now - timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 23))
    order = Order.objects.create(
        tenant=tenant,
        customer=customer,
        number=_next_number(tenant, m),
        email=customer.email,
        currency=m.currency,
        subtotal=subtotal,
        shipping_total=shipping,
        total=subtotal + shipping,
        placed_at=placed,
        fulfillment_status="" if status == TrackingStatus.PENDING else "fulfilled",
        shipping_address={
            "name": customer.name,
            "city": "Springfield",
            "country": m.carriers[0][2],
        },
        raw={"demo_stable": stable},
    )
    for sku, title, ptype, price in picks:
        OrderLine.objects.create(
            order=order, sku=sku, title=title, product_type=ptype, unit_price=Decimal(price)
        )
    if status == TrackingStatus.PENDING:
        return order
    carrier, hub, country = m.carriers[rng.randrange(len(m.carriers))]
    shipment = Shipment.objects.create(
        tenant=tenant,
        order=order,
        carrier=carrier,
        tracking_number=demo_tracking_number(carrier, rng),
        estimated_delivery=(placed + timedelta(days=6)).date(),
    )
    for offset, (st, text, city) in enumerate(_scan_path(status, hub)):
        record_tracking_event(
            shipment,
            occurred_at=placed + timedelta(hours=10 + offset * 19),
            status=st,
            description=text,
            carrier_code=f"{st[:2].upper()}{offset}",
            city=city,
            country=country,
            raw={"sandbox": True, "status": st, "description": text},
        )
    return order


def _s10(prefix: str, country: str, rng: random.Random) -> str:
    """A UPU S10 number with a valid mod-11 check digit (Royal Mail, Deutsche Post...)."""
    serial = f"{rng.randrange(10**7, 10**8)}"
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{serial}{check}{country}"


def demo_tracking_number(carrier: str, rng: random.Random) -> str:
    """Numbers shaped like each carrier's own, so detection and links behave as live."""
    digits = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if carrier == "ups":
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(15))
        values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
        total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
        return f"1Z{body}{(10 - total % 10) % 10}"
    return {
        "usps": "9400" + digits(18),
        "fedex": digits(12),
        "royalmail": _s10("RR", "GB", rng),
        "dpd": digits(14),
        "evri": "H" + digits(15),
        "dhl": digits(10),
        "gls": digits(11),
    }.get(carrier, digits(12))


def _scan_path(final: str, hub: str) -> list[tuple[str, str, str]]:
    path = [
        (TrackingStatus.INFO_RECEIVED, "Shipping label created", ""),
        (TrackingStatus.IN_TRANSIT, "Picked up by carrier", "Springfield"),
        (TrackingStatus.IN_TRANSIT, "Arrived at sort facility", hub),
    ]
    tails = {
        TrackingStatus.IN_TRANSIT: [],
        TrackingStatus.OUT_FOR_DELIVERY: [
            (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery", "Springfield")
        ],
        TrackingStatus.DELIVERED: [
            (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery", "Springfield"),
            (TrackingStatus.DELIVERED, "Delivered, left at front door", "Springfield"),
        ],
        TrackingStatus.EXCEPTION: [
            (TrackingStatus.EXCEPTION, "Package damaged in transit, held at depot", hub)
        ],
        TrackingStatus.FAILED_ATTEMPT: [
            (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery", "Springfield"),
            (TrackingStatus.FAILED_ATTEMPT, "Delivery attempted, nobody home", "Springfield"),
        ],
    }
    return path + tails.get(final, [])


# --- the stream ------------------------------------------------------------------

# (intent scenario, weight). WISMO dominates post-purchase contact volume.
SCENARIOS = (
    ("wismo", 55),
    ("refund_small", 9),
    ("refund_big", 7),
    ("return", 8),
    ("exception", 6),
    ("cancel", 5),
    ("address", 4),
    ("no_order", 6),
)

TEXTS = {
    "wismo": [
        "Hi, where is my order #{n}? It's been days.",
        "wheres my package?? order {n}",
        "Any update on order #{n}? I need it by the weekend",
        "Tracking hasn't moved, can you check #{n} please",
        "hello when will my order arrive. #{n}",
        "Hola, ¿dónde está mi pedido #{n}? Gracias",
        "Hallo, wo ist meine Bestellung #{n}? Danke",
        "still not received my stuff, order no {n}",
    ],
    "refund_small": [
        "I'd like a refund for order #{n}, the item isn't what I expected",
        "Please refund my order {n}. changed my mind",
        "can i get my money back for #{n}",
    ],
    "refund_big": [
        "I want a full refund for order #{n}. Not happy at all.",
        "Please refund order #{n} — it arrived but it's not what was advertised",
        "REFUND order {n} now please, I was promised $50 extra compensation",
    ],
    "return": [
        "How do I return the item from order #{n}? wrong size",
        "i want to send it back, order {n}, need a return label",
    ],
    "exception": [
        "Tracking for #{n} says there is a problem with delivery?? what happened",
        "my parcel #{n} is stuck and says exception",
    ],
    "cancel": ["Please cancel order #{n}, ordered by mistake", "cancel my order {n} asap"],
    "address": [
        "I need to change the shipping address on order #{n}, I moved",
        "wrong adress on #{n}, can you fix it",
    ],
    "no_order": [
        "Where is my package? I ordered last week",
        "hi my order never came",
        "?? still waiting",
    ],
}


def _pick_order(
    tenant: Tenant, rng: random.Random, *, status: str | None = None, big: bool | None = None
) -> Order | None:
    qs = Order.objects.filter(tenant=tenant)
    if status == TrackingStatus.PENDING:
        qs = qs.filter(shipments__isnull=True)
    elif status:
        qs = qs.filter(shipments__status=status)
    if big is not None:
        qs = qs.filter(total__gt=Decimal("200")) if big else qs.filter(total__lt=Decimal("120"))
    ids = list(qs.values_list("pk", flat=True)[:200])
    return Order.objects.get(pk=rng.choice(ids)) if ids else None


def simulate_one(rng: random.Random) -> str:
    """Send one realistic contact for a random demo merchant; return a one-line summary."""
    tenants = list(Tenant.objects.filter(slug__in=[m.slug for m in MERCHANTS]))
    if not tenants:
        return "no demo tenants: run seed_demo first"
    tenant = rng.choice(tenants)
    merchant = next(m for m in MERCHANTS if m.slug == tenant.slug)
    scenario = rng.choices([s for s, _ in SCENARIOS], weights=[w for _, w in SCENARIOS])[0]
    order: Order | None
    if scenario == "wismo":
        order = _pick_order(
            tenant,
            rng,
            status=rng.choice(
                [
                    TrackingStatus.IN_TRANSIT,
                    TrackingStatus.OUT_FOR_DELIVERY,
                    TrackingStatus.DELIVERED,
                ]
            ),
        )
    elif scenario in ("refund_small", "refund_big"):
        # A fresh delivered order: a refunded order cannot be refunded again.
        customer = Customer.objects.filter(tenant=tenant).order_by("?").first()
        order = make_order(
            tenant, merchant, customer, TrackingStatus.DELIVERED, rng, big=scenario == "refund_big"
        )
    elif scenario == "exception":
        order = _pick_order(tenant, rng, status=TrackingStatus.EXCEPTION)
    elif scenario in ("cancel", "address"):
        order = _pick_order(tenant, rng, status=TrackingStatus.PENDING)
    else:
        order = _pick_order(tenant, rng)
    template = rng.choice(TEXTS[scenario])
    number = order.number if order else ""
    body = template.format(n=number)
    if rng.random() < 0.15:
        body = body.lower().replace("please", "pls")
    email = (
        order.email if order else Customer.objects.filter(tenant=tenant).order_by("?").first().email
    )
    customer = Customer.objects.filter(tenant=tenant, email=email).first()
    contact = desk_actions.create_contact(
        tenant,
        actor=Actor.system("simulator"),
        channel=rng.choice(["email", "email", "chat", "form", "whatsapp"]),
        customer_email=email,
        customer_name=customer.name if customer else "",
        order_number="" if scenario == "no_order" or rng.random() < 0.3 else number,
        subject=body.split(".")[0][:80],
        body=body,
    )
    return f"{tenant.slug}: {scenario} contact {contact.public_id} ({number or 'no order number'})"


def advance_one_shipment(rng: random.Random) -> str | None:
    """Move one non-sample in-transit shipment a step along its way."""
    shipment = (
        Shipment.objects.filter(
            status__in=[TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY]
        )
        .exclude(order__raw__demo_stable=True)
        .order_by("?")
        .first()
    )
    if shipment is None:
        return None
    nxt = {
        TrackingStatus.IN_TRANSIT: (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery"),
        TrackingStatus.OUT_FOR_DELIVERY: (TrackingStatus.DELIVERED, "Delivered to mailbox"),
    }[shipment.status]
    record_tracking_event(
        shipment,
        occurred_at=timezone.now(),
        status=nxt[0],
        description=nxt[1],
        carrier_code=f"SIM{rng.randrange(1000)}",
        city="Springfield",
        raw={"sandbox": True},
    )
    return f"{shipment.carrier} {shipment.tracking_number} → {nxt[0]}"
