"""Encryption at rest for secrets we must be able to read back (API tokens,
webhook signing secrets). Fernet (AES-128-CBC + HMAC) from `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def active_key() -> str:
    """The key secrets are encrypted with: ENCRYPTION_KEY, or in development one
    derived from SECRET_KEY (settings refuse an empty key when DEBUG is off)."""
    key = settings.ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(("encryption:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return key.decode() if isinstance(key, bytes) else key


def _fernet() -> Fernet:
    return Fernet(active_key().encode())


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Secret cannot be decrypted with the configured ENCRYPTION_KEY") from exc


class EncryptedJSONField(models.TextField):
    """A JSON value stored as a Fernet token; the database never sees plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(decrypt(value))
            except ValueError:
                return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value: Any) -> str:
        return encrypt(json.dumps(value if value is not None else {}))
