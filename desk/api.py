"""Intake API: POST /api/v1/contacts, GET /api/v1/contacts/<id>, OpenAPI schema.

Authenticated by a tenant API key (``Authorization: Bearer <key>``), so no
session and no CSRF; every object is looked up inside the key's tenant."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from desk import actions
from desk.forms import ContactIntakeForm
from desk.models import Contact, Decision, Intent, Proposal
from tenants.access import tenant_for_api_key
from tenants.actor import Actor
from tenants.models import ApiKey, Tenant


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _method_not_allowed(allowed: str) -> JsonResponse:
    response = _error(405, f"This endpoint answers {allowed} only.")
    response["Allow"] = allowed
    return response


def _authenticate(request: HttpRequest) -> tuple[Tenant, ApiKey] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw_key = header.partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        return None
    return tenant_for_api_key(raw_key.strip())


def _unauthorized() -> JsonResponse:
    response = _error(401, "A valid tenant API key is required (Authorization: Bearer <key>).")
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them."""
    raise ValueError(f"{name} is not valid JSON")


# PostgreSQL text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate
# ("\ud800" is valid JSON) is not UTF-8: both would fail the insert.
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,128}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """``value`` with NULs and unpaired surrogates replaced by U+FFFD, in keys too."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _type_errors(payload: dict[str, Any]) -> dict[str, list[str]]:
    """Fields whose JSON type is wrong. The form would turn ``[1, 2]`` or ``42``
    into text and accept it, so types are checked before it runs."""
    errors: dict[str, list[str]] = {}
    for name, spec in _CONTACT_IN["properties"].items():
        if name not in payload:
            continue
        value = payload[name]
        if value is None and spec.get("nullable"):
            continue
        if not isinstance(value, str):
            errors[name] = ["Must be a string."]
    return errors


def serialize_contact(contact: Contact) -> dict[str, Any]:
    proposal = contact.current_proposal
    decision = proposal.decisions.order_by("created_at").first() if proposal else None
    return {
        "id": str(contact.public_id),
        "status": contact.status,
        "channel": contact.channel,
        "intent": contact.intent or None,
        "intent_confidence": float(contact.intent_confidence)
        if contact.intent_confidence is not None
        else None,
        "order_number": contact.order.number if contact.order else None,
        "escalation_reason": contact.escalation_reason or None,
        "proposal": None
        if proposal is None
        else {
            "id": str(proposal.public_id),
            "kind": proposal.kind,
            "status": proposal.status,
            "amount": str(proposal.amount) if proposal.amount is not None else None,
            "currency": proposal.currency or None,
            "confidence": float(proposal.confidence),
            "rationale": proposal.rationale,
            "reply_draft": proposal.reply_draft,
            "guardrails": proposal.guardrails,
        },
        "resolution": None
        if contact.status != Contact.Status.RESOLVED
        else {
            "by": contact.resolution,
            "resolved_at": contact.resolved_at.isoformat() if contact.resolved_at else None,
            "decision": decision.outcome if decision else None,
            # The agent's or specialist's answer, not the satisfaction survey beside it.
            "reply": next(
                (
                    m.body
                    for m in contact.messages.filter(direction="outbound").order_by("-created_at")
                    if (m.raw or {}).get("kind") != "csat_survey"
                ),
                None,
            ),
        },
        "created_at": contact.created_at.isoformat(),
    }


@csrf_exempt
def contacts(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    auth = _authenticate(request)
    if auth is None:
        return _unauthorized()
    tenant, key = auth
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        return _error(
            400, "Idempotency-Key must be 1 to 128 visible ASCII characters without spaces."
        )
    if request.content_type != "application/json":
        return _error(415, "Send the contact as JSON (Content-Type: application/json).")
    try:
        payload = _storable(json.loads(request.body or b"", parse_constant=_reject_constant))
    except RequestDataTooBig:
        return _error(413, "The body is too large.")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return _error(400, "The body must be a JSON object.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object.")
    type_errors = _type_errors(payload)
    if type_errors:
        return _error(400, "Invalid contact.", fields=type_errors)
    form = ContactIntakeForm({k: v for k, v in payload.items() if v is not None})
    if not form.is_valid():
        return _error(
            400,
            "Invalid contact.",
            fields={
                name: [e["message"] for e in errs]
                for name, errs in form.errors.get_json_data().items()
            },
        )
    data = form.cleaned_data
    earlier = (
        Contact.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
        if idempotency_key
        else None
    )
    if earlier is not None:
        return _accepted(earlier, replayed=True)
    try:
        with transaction.atomic():
            contact = actions.create_contact(
                tenant,
                actor=Actor.api(key.name),
                channel=data["channel"],
                customer_email=data["customer_email"],
                customer_name=data["customer_name"],
                order_number=data["order_number"],
                subject=data["subject"],
                body=data["body"],
                raw=payload,
                idempotency_key=idempotency_key or "",
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # Sent twice at once: the first submission to commit is the answer.
        return _accepted(
            Contact.objects.get(tenant=tenant, idempotency_key=idempotency_key), replayed=True
        )
    return _accepted(contact)


def _accepted(contact: Contact, *, replayed: bool = False) -> JsonResponse:
    response = JsonResponse({"id": str(contact.public_id), "status": contact.status}, status=202)
    response["Location"] = f"/api/v1/contacts/{contact.public_id}"
    if replayed:
        # The same Idempotency-Key again: its first contact, nothing created.
        response["Idempotent-Replayed"] = "true"
    return response


@csrf_exempt
def contact(request: HttpRequest, contact_id: str) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET, HEAD")
    auth = _authenticate(request)
    if auth is None:
        return _unauthorized()
    tenant, _ = auth
    try:
        public_id = uuid.UUID(contact_id)
    except ValueError:
        return _error(404, "No such contact.")
    found = (
        Contact.objects.select_related("order").filter(tenant=tenant, public_id=public_id).first()
    )
    if found is None:
        return _error(404, "No such contact.")
    return JsonResponse(serialize_contact(found))


@csrf_exempt
def openapi(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET, HEAD")
    return JsonResponse(OPENAPI)


_NOT_BLANK = (
    "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
_CONTACT_IN: dict[str, Any] = {
    "type": "object",
    "required": ["customer_email", "body"],
    "properties": {
        "channel": {
            "type": "string",
            # OpenAPI 3.0: a nullable enum must list null itself.
            "enum": [*Contact.Channel.values, None],
            "default": "api",
            "nullable": True,
        },
        "customer_email": {"type": "string", "format": "email", "maxLength": 254},
        "customer_name": {"type": "string", "maxLength": 160, "nullable": True},
        "order_number": {
            "type": "string",
            "maxLength": 64,
            "example": "#1042",
            "nullable": True,
        },
        "subject": {"type": "string", "maxLength": 255, "nullable": True},
        # Surrounding whitespace is trimmed, so the body needs one character
        # that is not whitespace (Python's str.isspace, spelled out for clients).
        "body": {"type": "string", "minLength": 1, "maxLength": 20000, "pattern": _NOT_BLANK},
    },
}
_NULLABLE_STRING = {"type": "string", "nullable": True}
_PROPOSAL_OUT = {
    "type": "object",
    "nullable": True,
    "required": ["id", "kind", "status", "amount", "currency", "confidence"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": list(Proposal.Kind.values)},
        "status": {"type": "string", "enum": list(Proposal.Status.values)},
        "amount": {**_NULLABLE_STRING, "description": 'Decimal as a string, e.g. "24.90".'},
        "currency": _NULLABLE_STRING,
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "rationale": {"type": "string"},
        "reply_draft": {"type": "string"},
        "guardrails": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "passed": {"type": "boolean"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
_RESOLUTION_OUT = {
    "type": "object",
    "nullable": True,
    "required": ["by", "resolved_at", "decision", "reply"],
    "properties": {
        "by": {"type": "string", "enum": list(Contact.Resolution.values)},
        "resolved_at": {"type": "string", "format": "date-time", "nullable": True},
        "decision": {
            "type": "string",
            "enum": [*Decision.Outcome.values, None],
            "nullable": True,
        },
        "reply": _NULLABLE_STRING,
    },
}
_CONTACT_OUT = {
    "type": "object",
    "required": [
        "id",
        "status",
        "channel",
        "intent",
        "intent_confidence",
        "order_number",
        "escalation_reason",
        "proposal",
        "resolution",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(Contact.Status.values)},
        "channel": {"type": "string", "enum": list(Contact.Channel.values)},
        "intent": {"type": "string", "enum": [*Intent.values, None], "nullable": True},
        "intent_confidence": {"type": "number", "nullable": True},
        "order_number": _NULLABLE_STRING,
        "escalation_reason": _NULLABLE_STRING,
        "proposal": {"$ref": "#/components/schemas/Proposal"},
        "resolution": {"$ref": "#/components/schemas/Resolution"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_ACCEPTED = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(Contact.Status.values)},
    },
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "fields": {
            "type": "object",
            "description": "Per field, what is wrong with it (400 only).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _error_response(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        **extra,
    }


_UNAUTHORIZED = _error_response(
    "Missing, malformed, unknown or revoked API key",
    headers={"WWW-Authenticate": {"schema": {"type": "string"}, "example": 'Bearer realm="api"'}},
)

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Post-purchase desk intake API",
        "version": "1",
        "description": "Submit customer contacts and follow them to resolution. Every "
        "call carries one merchant's API key; objects of other merchants do not exist for it.",
    },
    "components": {
        "securitySchemes": {
            "tenantKey": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "pd_<lookup>_<secret>",
                "description": "A merchant API key, issued on the merchant's settings page.",
            }
        },
        "schemas": {
            "ContactIn": _CONTACT_IN,
            "Accepted": _ACCEPTED,
            "Contact": _CONTACT_OUT,
            "Proposal": _PROPOSAL_OUT,
            "Resolution": _RESOLUTION_OUT,
            "Error": _ERROR,
        },
    },
    "security": [{"tenantKey": []}],
    "paths": {
        "/api/v1/contacts": {
            "post": {
                "operationId": "createContact",
                "summary": "Submit a customer contact; the agent takes it from here.",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Any unique string per submission: sending the same "
                        "key again (a retry after a timeout) answers with the first contact "
                        "instead of creating another, with Idempotent-Replayed: true",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 128,
                            "pattern": "^[!-~]+$",
                        },
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ContactIn"}}
                    },
                },
                "responses": {
                    "202": {
                        "description": "Accepted; the agent works on it in the background",
                        "headers": {
                            "Location": {
                                "description": "Where to follow the contact",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        },
                        "links": {
                            "GetContact": {
                                "operationId": "getContact",
                                "parameters": {"id": "$response.body#/id"},
                            }
                        },
                    },
                    "400": _error_response("The body is not a JSON object or a field is invalid"),
                    "401": _UNAUTHORIZED,
                    "413": _error_response("The body is larger than the server accepts"),
                    "415": _error_response("The body is not sent as application/json"),
                },
            }
        },
        "/api/v1/contacts/{id}": {
            "get": {
                "operationId": "getContact",
                "summary": "A contact's status, intent, proposal and resolution.",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "The id returned when the contact was submitted",
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The contact",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Contact"}}
                        },
                    },
                    "401": _UNAUTHORIZED,
                    "404": _error_response("No such contact for this key's merchant"),
                },
            }
        },
    },
}
