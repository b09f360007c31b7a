"""Reading a merchant's ticket export: the file as a whole, then each row.

A file is refused as a whole (FileRefused) when it cannot be a ticket export:
too big, not text, no header, no ``body`` column, too many rows. A single bad
row (no body, a date or amount we cannot read) is reported with its row
number, spreadsheet style (the header is row 1), and the rest goes on."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from desk.models import Contact
from integrations.access import normalize_order_number
from integrations.models import TrackingStatus

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

REQUIRED = ("body",)
COLUMNS = (
    "ticket_id",
    "created_at",
    "channel",
    "customer_email",
    "subject",
    "body",
    "order_number",
    "order_total",
    "currency",
    "order_status",
    "tracking_status",
    "delivered_at",
    "line_items",
)
ORDER_STATUSES = ("unfulfilled", "partial", "fulfilled", "cancelled")
# What help desks call their channels, mapped onto ours; anything else is answered by email.
CHANNELS = {
    **{c: c for c in Contact.Channel.values},
    "e-mail": Contact.Channel.EMAIL,
    "mail": Contact.Channel.EMAIL,
    "web": Contact.Channel.FORM,
    "contact_form": Contact.Channel.FORM,
    "web_form": Contact.Channel.FORM,
    "livechat": Contact.Channel.CHAT,
    "live_chat": Contact.Channel.CHAT,
    "messenger": Contact.Channel.CHAT,
    "text": Contact.Channel.SMS,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class FileRefused(ValueError):
    """The upload is not a ticket export we can read; the message says why."""


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal | None


@dataclass(frozen=True)
class Ticket:
    """One readable row of the export; empty optional columns are None or ''."""

    row: int
    ticket_id: str
    body: str
    subject: str = ""
    channel: str = Contact.Channel.EMAIL
    customer_email: str = ""
    created_at: datetime | None = None
    order_number: str = ""
    order_total: Decimal | None = None
    currency: str = ""
    order_status: str = ""
    tracking_status: str = ""
    delivered_at: datetime | None = None
    line_items: tuple[LineItem, ...] = ()


@dataclass
class Export:
    """The readable tickets of a file and the rows that could not be read."""

    tickets: list[Ticket] = field(default_factory=list)
    bad_rows: list[dict[str, object]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @property
    def first_at(self) -> datetime | None:
        return min((t.created_at for t in self.tickets if t.created_at), default=None)

    @property
    def last_at(self) -> datetime | None:
        return max((t.created_at for t in self.tickets if t.created_at), default=None)


def decode(content: bytes) -> str:
    """The file's text, or FileRefused if it is too big or not text."""
    if len(content) > MAX_BYTES:
        raise FileRefused(
            f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it and run the parts."
        )
    if b"\x00" in content[:4096]:
        raise FileRefused("This is not a CSV file (it contains binary data).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("This is not a CSV file we can read (not UTF-8 text).")


def _delimiter(text: str) -> str:
    """Comma, semicolon (spreadsheets in many European locales) or tab, read off the header.

    Only the delimiter is taken from the sniffer: on a header without quotes it
    also guesses that quotes are not doubled, which breaks any body quoting a carrier."""
    try:
        return csv.Sniffer().sniff(text[:8192].split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _header(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def read(text: str, tz: tzinfo) -> Export:
    """Every row of an export, readable or reported; FileRefused for a file that is not one.

    Times without an offset are read in ``tz`` (the merchant's time zone)."""
    if not text.strip():
        raise FileRefused("The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [_header(h) for h in next(reader)]
    except (csv.Error, StopIteration) as exc:
        raise FileRefused(f"This is not a CSV file we can read: {exc}") from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileRefused(
            "The header row has no 'body' column (the customer's message). Columns found: "
            + ", ".join(h for h in header if h)[:300]
        )
    export = Export(columns=[h for h in header if h in COLUMNS])
    try:
        for index, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if index - 1 > MAX_ROWS:
                raise FileRefused(
                    f"The file has more than {MAX_ROWS:,} tickets. Split it and run the parts."
                )
            cells = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
            try:
                export.tickets.append(_ticket(index, cells, tz))
            except ValueError as exc:
                export.bad_rows.append({"row": index, "reason": str(exc)})
    except csv.Error as exc:
        raise FileRefused(f"This is not a CSV file we can read: {exc}") from exc
    return export


def _ticket(row: int, cells: dict[str, str], tz: tzinfo) -> Ticket:
    body = cells.get("body", "")
    if not body:
        raise ValueError("the body is empty")
    email = cells.get("customer_email", "").lower()
    if email and not _EMAIL.match(email):
        raise ValueError(f"customer_email {email!r} is not an email address")
    currency = cells.get("currency", "").upper()
    if currency and not _CURRENCY.match(currency):
        raise ValueError(f"currency {currency!r} is not a three-letter code such as USD")
    order_status = cells.get("order_status", "").lower()
    if order_status == "canceled":
        order_status = "cancelled"
    if order_status and order_status not in ORDER_STATUSES:
        raise ValueError(f"order_status {order_status!r} is not one of {', '.join(ORDER_STATUSES)}")
    tracking = _header(cells.get("tracking_status", ""))
    if tracking and tracking not in TrackingStatus.values:
        raise ValueError(
            f"tracking_status {tracking!r} is not one of {', '.join(TrackingStatus.values)}"
        )
    number = normalize_order_number(cells.get("order_number", ""))
    if len(number) > 32:
        raise ValueError("order_number is longer than 32 characters")
    return Ticket(
        row=row,
        ticket_id=cells.get("ticket_id", "")[:64] or f"row {row}",
        body=body,
        subject=cells.get("subject", "")[:200],
        channel=CHANNELS.get(_header(cells.get("channel", "")), Contact.Channel.EMAIL),
        customer_email=email,
        created_at=_datetime(cells.get("created_at", ""), tz, "created_at"),
        order_number=number,
        order_total=_money(cells.get("order_total", ""), "order_total"),
        currency=currency,
        order_status=order_status,
        tracking_status=tracking,
        delivered_at=_datetime(cells.get("delivered_at", ""), tz, "delivered_at"),
        line_items=_line_items(cells.get("line_items", "")),
    )


def _datetime(value: str, tz: tzinfo, column: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("/", "-"))
    except ValueError as exc:
        raise ValueError(
            f"{column} {value!r} is not a date such as 2026-03-14 or 2026-03-14T09:30:00Z"
        ) from exc
    if len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time(12, 0))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _money(value: str, column: str) -> Decimal | None:
    if not value:
        return None
    cleaned = re.sub(r"[^\d.,-]", "", value)
    # "1.234,50" and "1,234.50": the last separator is the decimal point.
    if "," in cleaned and cleaned.rfind(",") > cleaned.rfind("."):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"{column} {value!r} is not an amount") from exc
    if amount < 0 or amount >= Decimal("1e9"):
        raise ValueError(f"{column} {value!r} is out of range")
    return amount


def _line_items(value: str) -> tuple[LineItem, ...]:
    """``SKU:quantity:unit price`` entries separated by ``;`` (quantity and price optional)."""
    items = []
    for entry in filter(None, (part.strip() for part in value.split(";"))):
        parts = [p.strip() for p in entry.split(":")]
        if len(parts) > 3 or not parts[0]:
            raise ValueError(f"line_items entry {entry!r} is not SKU:quantity:unit price")
        try:
            quantity = int(parts[1]) if len(parts) > 1 and parts[1] else 1
        except ValueError as exc:
            raise ValueError(
                f"line_items entry {entry!r} has a quantity that is not a number"
            ) from exc
        if not 1 <= quantity <= 999:
            raise ValueError(f"line_items entry {entry!r} has a quantity out of range")
        price = _money(parts[2], "line_items price") if len(parts) > 2 else None
        items.append(LineItem(sku=parts[0][:64], quantity=quantity, unit_price=price))
    return tuple(items)
