"""Keep personal data out of logs: email addresses and phone numbers are masked
before a record reaches any handler."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+\.)+[\w-]+")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)")


def redact(text: str) -> str:
    text = EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    return PHONE.sub("[phone]", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; log it as is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
