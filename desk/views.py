"""The Tier-2 desk: live inbox, decision packet, approve / reject."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from desk import actions, queries
from desk.access import get_contact_for_member, get_proposal_for_member
from desk.forms import ApproveForm, RejectForm
from desk.models import Contact
from tenants.access import get_tenant_for_member, tenants_where
from tenants.roles import Permission


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("desk:inbox")


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Escalated contacts across the member's tenants, or one tenant's with ?tenant=slug."""
    tenants = tenants_where(request.user, Permission.VIEW_CONTACTS)
    if request.GET.get("tenant"):
        tenant, _ = get_tenant_for_member(
            request.user, request.GET["tenant"], Permission.VIEW_CONTACTS
        )
        tenants = [tenant]
    elif not tenants:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Your role has no inbox")
    context = {
        "contacts": list(queries.escalated_for(tenants)[:200]),
        "tenant_counts": queries.open_counts(tenants),
        "selected_tenant": request.GET.get("tenant", ""),
    }
    template = "desk/inbox.html#inbox-list" if request.htmx else "desk/inbox.html"
    return render(request, template, context)


@require_GET
def contact_detail(request: HttpRequest, contact_id: str) -> HttpResponse:
    """The decision packet: proposal, evidence, order, tracking, conversation."""
    contact, membership = get_contact_for_member(request.user, contact_id, Permission.VIEW_CONTACTS)
    template = "desk/contact.html#decision-panel" if request.htmx else "desk/contact.html"
    return render(request, template, _packet(contact, membership))


def _packet(contact: Contact, membership, **extra) -> dict:
    proposal = contact.current_proposal
    order = contact.order
    return {
        "contact": contact,
        "proposal": proposal,
        "decision": getattr(proposal, "decision", None) if proposal else None,
        "order": order,
        "lines": list(order.lines.all()) if order else [],
        "shipments": list(order.shipments.prefetch_related("events")) if order else [],
        "conversation": list(contact.messages.select_related("author_user")),
        "can_decide": membership.can(Permission.DECIDE_PROPOSALS),
        "approve_form": ApproveForm(),
        # A "none" proposal's draft is the reply; an action's draft announces the
        # action, which a rejection must not send.
        "reject_form": RejectForm(
            initial={"reply": proposal.reply_draft if proposal and proposal.kind == "none" else ""}
        ),
        **extra,
    }


def _decide(request: HttpRequest, contact_id: str, proposal_id: str, approve: bool) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    proposal = get_proposal_for_member(request.user, contact, proposal_id)
    form = (ApproveForm if approve else RejectForm)(request.POST)
    error = None
    if form.is_valid():
        try:
            if approve:
                actions.approve_proposal(
                    proposal,
                    request.user,
                    role=membership.role,
                    reason_code=form.cleaned_data["reason_code"],
                    note=form.cleaned_data["note"],
                )
            else:
                actions.reject_proposal(
                    proposal,
                    request.user,
                    reason_code=form.cleaned_data["reason_code"],
                    reply=form.cleaned_data["reply"],
                    note=form.cleaned_data["note"],
                )
        except actions.DecisionError as exc:
            error = str(exc)
    else:
        error = "Please correct the form."
    if error is None:
        messages.success(
            request, "Approved: executing now." if approve else "Rejected and replied."
        )
        if request.htmx:
            contact.refresh_from_db()
            return render(request, "desk/contact.html#decision-panel", _packet(contact, membership))
        return redirect("desk:contact", contact_id=contact.public_id)
    contact.refresh_from_db()
    extra = {"decision_error": error}
    if approve:
        extra["approve_form"] = form
    else:
        extra["reject_form"] = form
    status = 409 if error and form.is_valid() else 400
    template = "desk/contact.html#decision-panel" if request.htmx else "desk/contact.html"
    if request.htmx:
        return render(request, template, _packet(contact, membership, **extra), status=status)
    messages.error(request, error)
    return render(request, template, _packet(contact, membership, **extra), status=status)


@require_POST
def approve(request: HttpRequest, contact_id: str, proposal_id: str) -> HttpResponse:
    return _decide(request, contact_id, proposal_id, approve=True)


@require_POST
def reject(request: HttpRequest, contact_id: str, proposal_id: str) -> HttpResponse:
    return _decide(request, contact_id, proposal_id, approve=False)
