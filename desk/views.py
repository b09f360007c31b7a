"""The Tier-2 desk: live inbox, decision packet, claims and decisions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from desk import actions, delivery, queries
from desk.access import (
    get_contact_for_member,
    get_macro_for_tenant,
    get_proposal_for_member,
    get_qa_review_for_tenant,
)
from desk.forms import (
    ApproveForm,
    CarrierClaimForm,
    CoApproveForm,
    InboxFilterForm,
    MacroForm,
    MessageForm,
    QaVerdictForm,
    ReassignForm,
    RejectForm,
    ReplyForm,
)
from desk.models import Contact, Macro, Message, Proposal
from tenants.access import get_tenant_for_member, require, tenants_where
from tenants.models import Membership, User
from tenants.roles import Permission, Role
from tenants.security import StepUpRequired, require_mfa_for_money, require_recent_login


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("desk:inbox")


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Escalations across the member's tenants, due soonest first, filtered and paged."""
    form = InboxFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    tenants = tenants_where(request.user, Permission.VIEW_CONTACTS)
    if filters.get("tenant"):
        tenant, _ = get_tenant_for_member(request.user, filters["tenant"], Permission.VIEW_CONTACTS)
        tenants = [tenant]
    elif not tenants:
        raise PermissionDenied("Your role has no inbox")
    now = timezone.now()
    page = queries.inbox_page(tenants, filters, request.user, now)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "filter_form": form,
        "contacts": page.contacts,
        "rows": [queries.present(contact, now) for contact in page.contacts],
        "next_cursor": page.next_cursor,
        "base_query": query.urlencode(),
        "is_first_page": not filters.get("after"),
        "tenant_counts": queries.open_counts(tenants),
        "now": now,
    }
    template = "desk/inbox.html#inbox-list" if request.htmx else "desk/inbox.html"
    return render(request, template, context)


@require_POST
def claim_next(request: HttpRequest) -> HttpResponse:
    """'Next': claim the escalation due soonest that nobody is working on."""
    tenants = tenants_where(request.user, Permission.DECIDE_PROPOSALS)
    if not tenants:
        raise PermissionDenied("Your role cannot decide")
    contact = actions.claim_next(request.user, tenants)
    if contact is None:
        messages.info(request, "Nothing left to claim. Well done.")
        return redirect("desk:inbox")
    return redirect("desk:contact", contact_id=contact.public_id)


@require_GET
def contact_detail(request: HttpRequest, contact_id: str) -> HttpResponse:
    """The decision packet: proposal, evidence, order, tracking, conversation."""
    contact, membership = get_contact_for_member(request.user, contact_id, Permission.VIEW_CONTACTS)
    template = "desk/contact.html#decision-panel" if request.htmx else "desk/contact.html"
    extra = {}
    if request.GET.get("macro"):
        # "Insert macro" is a plain GET so it works without JavaScript.
        text = actions.fill_macro(
            get_macro_for_tenant(contact.tenant, request.GET["macro"]), contact
        )
        extra = {"reject_form": RejectForm(initial={"reply": text}), "macro_text": text}
    return render(request, template, _packet(contact, membership, **extra))


def _claimed_by_other(contact: Contact, membership: Membership, now) -> bool:
    return contact.claim_is_live(now) and contact.assigned_to_id != membership.user_id


def _can_decide(contact: Contact, membership: Membership, now) -> bool:
    return membership.can(Permission.DECIDE_PROPOSALS) and not _claimed_by_other(
        contact, membership, now
    )


@require_GET
def deliveries(request: HttpRequest, contact_id: str) -> HttpResponse:
    """Where each message to the customer stands, swapped into an open conversation
    when a live push says one of them moved."""
    contact, membership = get_contact_for_member(request.user, contact_id, Permission.VIEW_CONTACTS)
    outbound = list(contact.messages.filter(direction=Message.Direction.OUTBOUND))
    return render(
        request,
        "desk/_deliveries.html",
        {
            "contact": contact,
            "conversation": delivery.with_deliveries(contact, outbound),
            "can_decide": _can_decide(contact, membership, timezone.now()),
        },
    )


def _packet(contact: Contact, membership: Membership, **extra) -> dict:
    proposal = contact.current_proposal
    order = contact.order
    now = timezone.now()
    decisions = list(proposal.decisions.select_related("decided_by")) if proposal else []
    is_lead = membership.role in (Role.LEAD, Role.ADMIN)
    claimed_by_other = _claimed_by_other(contact, membership, now)
    return {
        "contact": contact,
        "proposal": proposal,
        "decisions": decisions,
        "order": order,
        "lines": list(order.lines.all()) if order else [],
        "shipments": list(order.shipments.prefetch_related("events")) if order else [],
        "returns": list(order.returns.order_by("created_at")) if order else [],
        "conversation": delivery.with_deliveries(
            contact, list(contact.messages.select_related("author_user"))
        ),
        "membership": membership,
        "can_decide": _can_decide(contact, membership, now),
        "claimed_by_other": claimed_by_other,
        "claim_is_mine": contact.claim_is_live(now)
        and contact.assigned_to_id == membership.user_id,
        "can_co_approve": is_lead
        and proposal is not None
        and proposal.status == Proposal.Status.AWAITING_LEAD
        and all(d.decided_by_id != membership.user_id for d in decisions),
        "can_reassign": is_lead and contact.status == Contact.Status.ESCALATED,
        "sla_state": contact.sla_state(now),
        "refund_after": order.refunded_total + proposal.amount
        if order
        and proposal
        and proposal.kind == "refund"
        and proposal.amount
        and proposal.status in (Proposal.Status.PROPOSED, Proposal.Status.AWAITING_LEAD)
        else None,
        "approve_form": ApproveForm(
            initial={
                "kind": proposal.kind
                if proposal and proposal.kind in ("refund", "reply")
                else "reply",
                "amount": proposal.amount if proposal else None,
            }
        ),
        # A "none" proposal's draft is the reply; an action's draft announces the
        # action, which a rejection must not send.
        "reject_form": RejectForm(
            initial={"reply": proposal.reply_draft if proposal and proposal.kind == "none" else ""}
        ),
        "co_approve_form": CoApproveForm(),
        "macros": list(contact.tenant.macros.all()),
        "message_form": MessageForm(),
        "reassign_form": ReassignForm(),
        **extra,
    }


def _after_change(
    request: HttpRequest,
    contact: Contact,
    membership: Membership,
    *,
    ok: str | None,
    error: str | None,
    status: int = 200,
    **extra,
) -> HttpResponse:
    """Shared ending of every decision view: HTMX gets the panel, a form post a redirect."""
    contact.refresh_from_db()
    if error is None:
        if request.htmx:
            return render(
                request, "desk/contact.html#decision-panel", _packet(contact, membership, **extra)
            )
        if ok:
            messages.success(request, ok)
        return redirect("desk:contact", contact_id=contact.public_id)
    template = "desk/contact.html#decision-panel" if request.htmx else "desk/contact.html"
    if not request.htmx:
        messages.error(request, error)
    return render(
        request,
        template,
        _packet(contact, membership, decision_error=error, **extra),
        status=status,
    )


@require_POST
def approve(request: HttpRequest, contact_id: str, proposal_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    proposal = get_proposal_for_member(request.user, contact, proposal_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _after_change(
            request,
            contact,
            membership,
            ok=None,
            error="Please correct the form.",
            status=400,
            approve_form=form,
        )
    kind = form.cleaned_data["kind"] or proposal.kind
    amount = form.cleaned_data["amount"] or proposal.amount
    if kind in Proposal.MONEY_KINDS:
        require_mfa_for_money(request)
        above_limit = amount and amount > contact.tenant.specialist_approval_limit
        # A specialist's approval above the limit only records the first seat;
        # a lead's releases money, so it needs a fresh sign-in.
        if above_limit and membership.role != Role.SPECIALIST:
            try:
                require_recent_login(
                    request, reverse("desk:contact", kwargs={"contact_id": contact.public_id})
                )
            except StepUpRequired as step_up:
                return step_up.response
    try:
        decision = actions.approve_proposal(
            proposal,
            request.user,
            role=membership.role,
            reason_code=form.cleaned_data["reason_code"],
            note=form.cleaned_data["note"],
            kind=form.cleaned_data["kind"] or None,
            amount=form.cleaned_data["amount"],
        )
    except actions.DecisionError as exc:
        return _after_change(
            request,
            contact,
            membership,
            ok=None,
            error=str(exc),
            status=409,
            approve_form=form,
        )
    proposal.refresh_from_db()
    ok = (
        "Approved; a team lead must co-approve before it runs."
        if proposal.status == Proposal.Status.AWAITING_LEAD
        else f"{decision.get_outcome_display()}: executing now."
    )
    return _after_change(request, contact, membership, ok=ok, error=None)


@require_POST
def co_approve(request: HttpRequest, contact_id: str, proposal_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    if membership.role not in (Role.LEAD, Role.ADMIN):
        raise PermissionDenied("Only a team lead can co-approve")
    proposal = get_proposal_for_member(request.user, contact, proposal_id)
    require_mfa_for_money(request)
    try:
        # Co-approvals are above the specialist limit by definition.
        require_recent_login(
            request, reverse("desk:contact", kwargs={"contact_id": contact.public_id})
        )
    except StepUpRequired as step_up:
        return step_up.response
    form = CoApproveForm(request.POST)
    form.is_valid()
    try:
        actions.co_approve_proposal(
            proposal, request.user, role=membership.role, note=form.cleaned_data.get("note", "")
        )
    except actions.DecisionError as exc:
        return _after_change(request, contact, membership, ok=None, error=str(exc), status=409)
    return _after_change(request, contact, membership, ok="Co-approved: executing now.", error=None)


@require_POST
def reject(request: HttpRequest, contact_id: str, proposal_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    proposal = get_proposal_for_member(request.user, contact, proposal_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _after_change(
            request,
            contact,
            membership,
            ok=None,
            error=" ".join(form.non_field_errors()) or "Please correct the form.",
            status=400,
            reject_form=form,
        )
    try:
        actions.reject_proposal(
            proposal,
            request.user,
            reason_code=form.cleaned_data["reason_code"],
            reply=form.cleaned_data["reply"],
            note=form.cleaned_data["note"],
            role=membership.role,
        )
    except actions.DecisionError as exc:
        return _after_change(
            request, contact, membership, ok=None, error=str(exc), status=409, reject_form=form
        )
    done = "Rejected and replied." if form.cleaned_data["reply"].strip() else "Resolved."
    return _after_change(request, contact, membership, ok=done, error=None)


@require_POST
def claim(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    try:
        actions.claim_contact(contact, request.user)
    except actions.DecisionError as exc:
        return _after_change(request, contact, membership, ok=None, error=str(exc), status=409)
    return _after_change(
        request, contact, membership, ok="You are working on this contact.", error=None
    )


@require_POST
def release(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    actions.release_claim(contact, request.user)
    return _after_change(request, contact, membership, ok="Released.", error=None)


@require_POST
def reassign(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    if membership.role not in (Role.LEAD, Role.ADMIN):
        raise PermissionDenied("Only a team lead can reassign")
    form = ReassignForm(request.POST)
    error = "Please give the email of a colleague." if not form.is_valid() else None
    if error is None:
        target = User.objects.filter(email__iexact=form.cleaned_data["to"]).first()
        try:
            if target is None:
                raise actions.DecisionError(
                    f"No colleague with the email {form.cleaned_data['to']}."
                )
            actions.reassign_contact(contact, request.user, target)
        except actions.DecisionError as exc:
            error = str(exc)
    status = 400 if error else 200
    return _after_change(
        request,
        contact,
        membership,
        ok="Reassigned.",
        error=error,
        status=status,
        reassign_form=form,
    )


@require_POST
def note(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(request.user, contact_id, Permission.VIEW_CONTACTS)
    require(membership, Permission.VIEW_CONTACTS)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _after_change(
            request, contact, membership, ok=None, error="A note needs text.", status=400
        )
    actions.add_note(contact, request.user, form.cleaned_data["body"])
    return _after_change(request, contact, membership, ok="Note added.", error=None)


@require_POST
def carrier_claim(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    form = CarrierClaimForm(request.POST)
    if not form.is_valid():
        return _after_change(
            request,
            contact,
            membership,
            ok=None,
            error="Say whether the claim was filed.",
            status=400,
        )
    try:
        changed = actions.carrier_claim(
            contact,
            request.user,
            opened=form.cleaned_data["opened"],
            reference=form.cleaned_data["reference"],
        )
    except actions.DecisionError as exc:
        return _after_change(request, contact, membership, ok=None, error=str(exc), status=409)
    verb = "wait on the carrier" if form.cleaned_data["opened"] else "count again"
    return _after_change(
        request, contact, membership, ok=f"{changed} SLA clock(s) {verb}.", error=None
    )


@require_POST
def reply(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _after_change(
            request, contact, membership, ok=None, error="A reply needs text.", status=400
        )
    try:
        actions.send_reply(
            contact,
            request.user,
            form.cleaned_data["body"],
            waiting_on_customer=form.cleaned_data["waiting_on_customer"],
        )
    except actions.DecisionError as exc:
        return _after_change(request, contact, membership, ok=None, error=str(exc), status=409)
    return _after_change(request, contact, membership, ok="Reply sent.", error=None)


@require_POST
def send_again(request: HttpRequest, contact_id: str, message_id: str) -> HttpResponse:
    """Send a failed message to the customer again, once the specialist has read why it
    failed (an interrupted send may have reached them already)."""
    from integrations.messaging.actions import NotFailed
    from integrations.messaging.actions import send_again as queue_again
    from tenants.actor import Actor

    contact, membership = get_contact_for_member(
        request.user, contact_id, Permission.DECIDE_PROPOSALS
    )
    row = delivery.outbox_row_for(contact, message_id)
    if row is None:
        raise Http404("No such message on this contact")
    if contact.claim_is_live(timezone.now()) and contact.assigned_to_id != request.user.pk:
        return _after_change(
            request,
            contact,
            membership,
            ok=None,
            error=f"{contact.assigned_to} is working on this contact.",
            status=409,
        )
    try:
        queue_again(row, Actor.member(request.user))
    except NotFailed as exc:
        return _after_change(request, contact, membership, ok=None, error=str(exc), status=409)
    return _after_change(request, contact, membership, ok="Sending it again.", error=None)


@require_GET
def overrides(request: HttpRequest, slug: str) -> HttpResponse:
    """Where humans change the agent's proposals, week by week, for leads and account managers."""
    from desk import learning

    tenant, _ = get_tenant_for_member(request.user, slug, Permission.REVIEW_QUALITY)
    return render(
        request,
        "desk/overrides.html",
        {
            "tenant": tenant,
            "weeks": learning.weekly(tenant),
            "recent": [
                d for d in learning.decisions(tenant, 8)[:100] if d.outcome in learning.CHANGED
            ][:50],
        },
    )


@require_http_methods(["GET", "POST"])
def macros(request: HttpRequest, slug: str) -> HttpResponse:
    """A tenant's reply macros, written by leads and account managers."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.REVIEW_QUALITY)
    form = MacroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.save_macro(tenant, request.user, **form.cleaned_data)
        messages.success(request, "Macro saved.")
        return redirect("desk:macros", slug=tenant.slug)
    return render(
        request,
        "desk/macros.html",
        {
            "tenant": tenant,
            "form": form,
            "macros": tenant.macros.all(),
            "variables": Macro.VARIABLES,
        },
    )


@require_POST
def macro_delete(request: HttpRequest, slug: str, macro_id: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.REVIEW_QUALITY)
    actions.delete_macro(get_macro_for_tenant(tenant, macro_id), request.user)
    return redirect("desk:macros", slug=tenant.slug)


@require_http_methods(["GET", "POST"])
def qa(request: HttpRequest, slug: str) -> HttpResponse:
    """Blind review of sampled AI resolutions and the false-approve rate."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.REVIEW_QUALITY)
    if request.method == "POST":
        review = get_qa_review_for_tenant(tenant, request.POST.get("review", ""))
        form = QaVerdictForm(request.POST)
        if form.is_valid():
            actions.record_qa_verdict(review, request.user, **form.cleaned_data)
            messages.success(request, "Verdict recorded.")
        return redirect("desk:qa", slug=tenant.slug)
    return render(request, "desk/qa.html", {"tenant": tenant, **queries.qa_overview(tenant)})
