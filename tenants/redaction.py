"""Keep personal data out of logs: email addresses and phone numbers are masked
before a record reaches any handler."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+\.)+[\w-]+")
# International numbers (+…) or spaced national ones; never runs of digits and
# dashes glued to letters, which are ids (task ids, UUIDs, tracking numbers).
PHONE = re.compile(r"(?<![\w-])(?:\+\d[\d ()./-]{6,}\d|\(?\d{3}\)?[ .]\d{3}[ .-]\d{4})(?![\w-])")


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
