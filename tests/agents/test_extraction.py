"""Claims pulled out of customer text: identifiers, amounts, items, language."""

from __future__ import annotations

import pytest

from agents.extraction import extract


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("#1042 where is it", ["1042"]),
        ("order no 1042 please", ["1042"]),
        ("Order number: #KC-2001", ["KC-2001"]),
        ("my orders are kc-2001 and LA-3001", ["KC-2001", "LA-3001"]),
        ("1042", ["1042"]),
        ("Bestellnummer 55102, bitte stornieren", ["55102"]),
        ("pedido nº 7710 no llegó", ["7710"]),
        ("order #1042 and also #1043", ["1042", "1043"]),
    ],
)
def test_order_numbers_in_merchant_formats(text, numbers):
    assert extract(text).order_numbers == numbers


@pytest.mark.parametrize(
    "text",
    [
        "I live at 1200 Main Street, apt 4",
        "call me on +44 7700 900123",
        "(555) 123-4567",
        "I paid $1042 for this",
        "ordered in 2024 and still nothing",
        "size 1042? no, zip 90210",
        "ups 1Z999AA10123456784",
    ],
)
def test_numbers_that_are_not_orders_are_not_offered_as_orders(text):
    assert extract(text).order_numbers == []


def test_a_named_order_number_wins_over_a_bare_number():
    assert extract("called 3 times about order KC-2001, ref 998877").order_numbers == ["KC-2001"]


@pytest.mark.parametrize(
    ("text", "tracking"),
    [
        ("UPS says 1Z999AA10123456784", ["1Z999AA10123456784"]),
        ("usps 9400 1000 0000 0000 0000 00", ["9400100000000000000000"]),
        ("tracking 92055901755477000000000015", []),  # 26 digits: too long for USPS
        ("tracking 9205590175547700000001", ["9205590175547700000001"]),
        ("Royal Mail RR123456789GB", ["RR123456789GB"]),
        ("Deutsche Post RR 123 456 789 DE", ["RR123456789DE"]),
    ],
)
def test_tracking_numbers(text, tracking):
    assert extract(text).tracking_numbers == tracking


def test_tracking_numbers_are_not_mistaken_for_order_numbers():
    result = extract("order 1042, tracking 9400100000000000000000")
    assert result.order_numbers == ["1042"]
    assert result.tracking_numbers == ["9400100000000000000000"]


def test_emails_are_found_and_lower_cased():
    assert extract("write to Bob.Smith+shop@Example.co.uk.").emails == [
        "bob.smith+shop@example.co.uk"
    ]


def test_amounts_are_kept_as_claims_with_their_currency():
    result = extract("my manager approved $5,000 extra, or 5.000,50 € or 59.99 dollars or £12")
    assert result.claimed_amounts == ["5000", "5000.50", "59.99", "12"]
    assert [(c["amount"], c["currency"]) for c in result.amount_claims] == [
        ("5000", "USD"),
        ("5000.50", "EUR"),
        ("59.99", "USD"),
        ("12", "GBP"),
    ]
    assert result.amount_claims[0]["text"] == "$5,000"


def test_an_amount_is_not_an_order_number():
    assert extract("refund me $5000").order_numbers == []


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("the blue hoodie and 2 white mugs arrived broken", ["blue hoodie", "white mugs"]),
        (
            "the coffee machine works but the phone case is cracked",
            ["coffee machine", "phone case"],
        ),
        ("my black leather boots", ["black leather boots"]),
        ("wrong SKU: TS-100 sent", ["sku TS-100"]),
        ("they didnt ring the bell, on top of that it doesnt suit me", []),
    ],
)
def test_item_mentions(text, items):
    assert extract(text).items == items


def test_a_sku_is_not_an_order_number():
    assert extract("SKU: TS-100 is missing").order_numbers == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where is my order", "en"),
        ("DOA, need a new one", "en"),
        ("ok", "en"),
        ("1042", "en"),
        ("dónde está mi pedido", "es"),
        ("me cobraron dos veces", "es"),
        ("gracias", "es"),
        ("wo ist meine Bestellung?", "de"),
        ("der Artikel kam kaputt an", "de"),
        ("où est ma commande ?", "fr"),
        ("je n'ai toujours pas reçu mon remboursement", "fr"),
        ("dov'è il mio ordine?", "it"),
        ("mi avete addebitato due volte", "it"),
        ("onde está minha encomenda?", "pt"),
        ("quero meu dinheiro de volta", "pt"),
    ],
)
def test_language(text, language):
    assert extract(text).language == language


def test_extracted_claims_are_json_ready_for_the_agent_trace():
    import json

    result = extract("order #1042, $20 for the red mug, ups 1Z999AA10123456784, a@b.com")
    assert json.loads(json.dumps(result.__dict__))["order_numbers"] == ["1042"]
