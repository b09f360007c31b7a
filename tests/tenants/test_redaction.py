from __future__ import annotations

import logging

from tenants.redaction import RedactPersonalData, redact


def test_emails_and_phone_numbers_are_masked():
    assert redact("refund for maya.garcia@example.com") == "refund for m***@***"
    assert redact("call +44 20 7946 0958 today") == "call [phone] today"
    assert redact("order #1042 for 300.00 USD") == "order #1042 for 300.00 USD"


def test_log_records_are_redacted_before_handlers_see_them():
    record = logging.LogRecord(
        "desk", logging.INFO, __file__, 1, "contact from %s", ("sam@example.com",), None
    )
    assert RedactPersonalData().filter(record)
    assert record.getMessage() == "contact from s***@***"
