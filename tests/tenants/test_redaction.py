from __future__ import annotations

import logging

from tenants.redaction import RedactPersonalData, redact


def test_emails_and_phone_numbers_are_masked():
    assert redact("refund for maya.garcia@example.com") == "refund for m***@***"
    assert redact("call +44 20 7946 0958 today") == "call [phone] today"
    assert redact("call (415) 555 0142") == "call [phone]"
    assert redact("order #1042 for 300.00 USD") == "order #1042 for 300.00 USD"
    task_id = "e1b83a13-4d5c-1234-5678-810f474015c8"
    assert redact(f"Task {task_id} succeeded") == f"Task {task_id} succeeded"


def test_log_records_are_redacted_before_handlers_see_them():
    record = logging.LogRecord(
        "desk", logging.INFO, __file__, 1, "contact from %s", ("sam@example.com",), None
    )
    assert RedactPersonalData().filter(record)
    assert record.getMessage() == "contact from s***@***"
