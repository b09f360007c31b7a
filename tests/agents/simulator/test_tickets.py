"""Reading a ticket export: the whole file, then each row on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agents.simulator import tickets
from agents.simulator.tickets import FileRefused, LineItem

PARIS = ZoneInfo("Europe/Paris")


def test_quoted_bodies_with_commas_and_doubled_quotes_stay_in_their_column():
    text = (
        "ticket_id,body,order_total,currency\n"
        'T1,"UPS keeps saying ""delivery attempt"", nobody comes",59.00,EUR\n'
    )
    [ticket] = tickets.read(text, PARIS).tickets
    assert ticket.body == 'UPS keeps saying "delivery attempt", nobody comes'
    assert (ticket.order_total, ticket.currency) == (Decimal("59.00"), "EUR")


def test_a_semicolon_export_with_european_amounts_is_read():
    text = "Ticket ID;Created at;Body;Order total\nT1;2026-03-14 09:30;wo ist mein paket;1.234,50\n"
    [ticket] = tickets.read(text, PARIS).tickets
    assert ticket.order_total == Decimal("1234.50")
    # No offset in the file: the merchant's time zone.
    assert ticket.created_at == datetime(2026, 3, 14, 8, 30, tzinfo=UTC)


def test_each_bad_row_is_reported_with_its_spreadsheet_row_number_and_the_rest_is_read():
    text = (
        "ticket_id,body,order_total,tracking_status,line_items\n"
        "T1,where is it,20.00,in_transit,\n"
        "T2,,20.00,,\n"
        "\n"
        "T3,refund please,twenty,,\n"
        "T4,return,40.00,lost_in_space,\n"
        "T5,cancel,,,TEE-M:2:19.90; CAP\n"
        "T6,cancel,,,TEE-M:two\n"
    )
    export = tickets.read(text, PARIS)
    assert [t.ticket_id for t in export.tickets] == ["T1", "T5"]
    assert export.tickets[1].line_items == (
        LineItem("TEE-M", 2, Decimal("19.90")),
        LineItem("CAP", 1, None),
    )
    assert [(b["row"], b["reason"].split(" ")[0]) for b in export.bad_rows] == [
        (3, "the"),
        (5, "order_total"),
        (6, "tracking_status"),
        (8, "line_items"),
    ]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("ticket_id,message\nT1,hello\n", "no 'body' column"),
        ("body\n" + "hello\n" * (tickets.MAX_ROWS + 1), "more than 20,000"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_whole(text, why):
    with pytest.raises(FileRefused, match=why):
        tickets.read(text, PARIS)


def test_binary_and_oversized_uploads_are_refused_before_reading():
    with pytest.raises(FileRefused, match="binary"):
        tickets.decode(b"PK\x03\x04\x00\x00")
    with pytest.raises(FileRefused, match="limit is 10 MB"):
        tickets.decode(b"body\n" + b"x" * tickets.MAX_BYTES)
    assert tickets.decode("body\ncafé\n".encode("cp1252")) == "body\ncafé\n"
