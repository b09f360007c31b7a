"""Intake API: POST /api/v1/contacts, GET /api/v1/contacts/<id>, OpenAPI schema.

Authenticated by a tenant API key (``Authorization: Bearer <key>``), so no
session and no CSRF; every object is looked up inside the key's tenant."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from desk import actions
from desk.forms import ContactIntakeForm
from desk.models import Contact
from tenants.access import tenant_for_api_key
from tenants.actor import Actor
from tenants.models import ApiKey, Tenant


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


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
@require_http_methods(["POST"])
def contacts(request: HttpRequest) -> JsonResponse:
    auth = _authenticate(request)
    if auth is None:
        return _unauthorized()
    tenant, key = auth
    try:
        payload = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The body must be a JSON object.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object.")
    form = ContactIntakeForm(payload)
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
    )
    response = JsonResponse({"id": str(contact.public_id), "status": contact.status}, status=202)
    response["Location"] = f"/api/v1/contacts/{contact.public_id}"
    return response


@require_GET
def contact(request: HttpRequest, contact_id: str) -> JsonResponse:
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


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(OPENAPI)


_CONTACT_IN = {
    "type": "object",
    "required": ["customer_email", "body"],
    "properties": {
        "channel": {"type": "string", "enum": list(Contact.Channel.values), "default": "api"},
        "customer_email": {"type": "string", "format": "email"},
        "customer_name": {"type": "string", "maxLength": 160},
        "order_number": {"type": "string", "maxLength": 64, "example": "#1042"},
        "subject": {"type": "string", "maxLength": 255},
        "body": {"type": "string", "maxLength": 20000},
    },
}
_CONTACT_OUT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(Contact.Status.values)},
        "channel": {"type": "string"},
        "intent": {"type": "string", "nullable": True},
        "intent_confidence": {"type": "number", "nullable": True},
        "order_number": {"type": "string", "nullable": True},
        "escalation_reason": {"type": "string", "nullable": True},
        "proposal": {"type": "object", "nullable": True},
        "resolution": {"type": "object", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Post-purchase desk intake API", "version": "1"},
    "components": {
        "securitySchemes": {"tenantKey": {"type": "http", "scheme": "bearer"}},
        "schemas": {"ContactIn": _CONTACT_IN, "Contact": _CONTACT_OUT, "Error": _ERROR},
    },
    "security": [{"tenantKey": []}],
    "paths": {
        "/api/v1/contacts": {
            "post": {
                "summary": "Submit a customer contact; the agent takes it from here.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ContactIn"}}
                    },
                },
                "responses": {
                    "202": {
                        "description": "Accepted",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string", "format": "uuid"},
                                        "status": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "400": {
                        "description": "Invalid input",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                    "401": {"description": "Missing or invalid API key"},
                },
            }
        },
        "/api/v1/contacts/{id}": {
            "get": {
                "summary": "A contact's status, intent, proposal and resolution.",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
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
                    "401": {"description": "Missing or invalid API key"},
                    "404": {"description": "No such contact in this tenant"},
                },
            }
        },
    },
}
