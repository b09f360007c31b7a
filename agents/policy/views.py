"""The returns-policy editor for account managers: versions, edit, reorder, diff, try a line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.backends.django import DjangoTemplates
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.policy import actions
from agents.policy.access import get_policy_tenant_for_member, get_version_for_member
from agents.policy.cache import compile_version
from agents.policy.diff import diff_documents
from agents.policy.forms import MoveRuleForm, PolicyTextForm, SampleLineForm
from agents.policy.models import ImmutableVersionError, Policy, PolicyVersion
from agents.policy.schema import PolicyFormatError, dump_text
from tenants.actor import Actor

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_backend: DjangoTemplates | None = None


def _templates() -> DjangoTemplates:
    """The project's template setup plus this package's own templates folder.

    The policy package is not an app of its own, so the app-directories loader does not find
    its templates; this backend puts the folder in front of the project's."""
    global _backend
    if _backend is None:
        config = settings.TEMPLATES[0]
        loaders: list = [
            ("django.template.loaders.filesystem.Loader", [TEMPLATE_DIR, *config.get("DIRS", [])]),
            "django.template.loaders.app_directories.Loader",
        ]
        if not settings.DEBUG:
            loaders = [("django.template.loaders.cached.Loader", loaders)]
        options = {
            **{k: v for k, v in config.get("OPTIONS", {}).items() if k != "loaders"},
            "loaders": [("template_partials.loader.Loader", loaders)],
        }
        _backend = DjangoTemplates(
            {"NAME": "policy", "DIRS": [], "APP_DIRS": False, "OPTIONS": options}
        )
    return _backend


def _render(request: HttpRequest, name: str, context: dict[str, Any], status: int = 200):
    template = _templates().get_template(name)
    return HttpResponse(template.render(context, request), status=status)


def _version_url(slug: str, version: PolicyVersion) -> str:
    return reverse("policy:version", kwargs={"slug": slug, "version_id": version.public_id})


def _version_context(tenant, version: PolicyVersion, **extra) -> dict[str, Any]:
    versions = list(PolicyVersion.objects.filter(policy=version.policy).order_by("-number"))
    return {
        "tenant": tenant,
        "version": version,
        "versions": versions,
        "rules": version.rules,
        "text_form": PolicyTextForm(initial={"text": dump_text(version.document)}),
        "sample_form": SampleLineForm(),
        **extra,
    }


@require_GET
def policy_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The tenant's policy: versions, the one in force, and a diff picker."""
    tenant, _ = get_policy_tenant_for_member(request.user, slug)
    policy = Policy.objects.filter(tenant=tenant).first()
    versions = list(policy.versions.select_related("created_by")) if policy else []
    current = next((v for v in versions if v.is_published), None)
    context = {"tenant": tenant, "policy": policy, "versions": versions, "current": current}
    return _render(request, "policy/policy.html", context)


@require_POST
def new_draft(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_policy_tenant_for_member(request.user, slug)
    version = actions.start_draft(tenant, Actor.member(request.user))
    return redirect(_version_url(slug, version))


@require_GET
def version_page(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    tenant, _, version = get_version_for_member(request.user, slug, version_id)
    return _render(request, "policy/version.html", _version_context(tenant, version))


@require_POST
def save_draft(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    """Validate and store the edited text; errors name the rule and field."""
    tenant, _, version = get_version_for_member(request.user, slug, version_id)
    form = PolicyTextForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            version = actions.update_draft(
                version, form.cleaned_data["document"], Actor.member(request.user)
            )
            saved = True
        except ImmutableVersionError as exc:
            form.add_error(None, str(exc))
    if not request.htmx and (saved or version.is_published):
        # A published version has no editor on its page, so say why on the redirect.
        for error in form.non_field_errors():
            messages.error(request, error)
        if saved:
            messages.success(request, f"Version {version.number} saved.")
        return redirect(_version_url(slug, version))
    context = _version_context(tenant, version, text_form=form, saved=saved)
    if request.htmx:
        return _render(request, "policy/version.html#policy-editor", context)
    return _render(request, "policy/version.html", context, status=400)


@require_POST
def change_rule(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    """Move a rule of a draft up or down, or remove it."""
    tenant, _, version = get_version_for_member(request.user, slug, version_id)
    form = MoveRuleForm(request.POST)
    error = None
    if form.is_valid():
        rule_id, direction = form.cleaned_data["rule_id"], form.cleaned_data["direction"]
        actor = Actor.member(request.user)
        try:
            if direction == "remove":
                version = actions.remove_rule(version, rule_id, actor)
            else:
                version = actions.move_rule(version, rule_id, -1 if direction == "up" else 1, actor)
        except (ValueError, ImmutableVersionError) as exc:
            error = str(exc)
    else:
        error = "Pick a rule and a direction."
    if request.htmx:
        context = _version_context(tenant, version, rule_error=error)
        return _render(request, "policy/version.html#rule-table", context)
    if error:
        messages.error(request, error)
    return redirect(_version_url(slug, version))


@require_POST
def publish(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    _, _, version = get_version_for_member(request.user, slug, version_id)
    try:
        version = actions.publish_version(version, Actor.member(request.user))
        messages.success(request, f"Version {version.number} is now in force.")
    except PolicyFormatError as exc:
        messages.error(request, str(exc))
    return redirect(_version_url(slug, version))


@require_POST
def try_line(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    """Evaluate a sample order line against this version, without storing anything."""
    tenant, _, version = get_version_for_member(request.user, slug, version_id)
    form = SampleLineForm(request.POST)
    decision = None
    if form.is_valid():
        facts, as_of = form.facts()
        decision = compile_version(version, tenant).evaluate(facts, as_of).to_dict()
    context = _version_context(tenant, version, sample_form=form, decision=decision)
    if request.htmx:
        return _render(request, "policy/version.html#try-result", context)
    return _render(request, "policy/version.html", context, status=200 if decision else 400)


@require_GET
def diff(request: HttpRequest, slug: str) -> HttpResponse:
    """Rule-by-rule differences between versions ?a=N and ?b=M (default: in force vs latest)."""
    tenant, _ = get_policy_tenant_for_member(request.user, slug)
    versions = list(PolicyVersion.objects.filter(policy__tenant=tenant).order_by("-number"))
    by_number = {v.number: v for v in versions}
    current = next((v for v in versions if v.is_published), None)

    def pick(key: str, fallback: PolicyVersion | None) -> PolicyVersion | None:
        raw = request.GET.get(key, "")
        return by_number.get(int(raw)) if raw.isdigit() else fallback

    old = pick("a", current or (versions[-1] if versions else None))
    new = pick("b", versions[0] if versions else None)
    changes = diff_documents(old.document, new.document) if old and new else None
    context = {"tenant": tenant, "versions": versions, "old": old, "new": new, "changes": changes}
    return _render(request, "policy/diff.html", context)


@require_POST
def backtest_start(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    """Queue a backtest of this version over the last N days (default 30)."""
    from agents.policy import backtest

    _, _, version = get_version_for_member(request.user, slug, version_id)
    try:
        days = max(1, min(365, int(request.POST.get("days", "30"))))
    except ValueError:
        days = 30
    run = backtest.start(version, days=days, user=request.user)
    return redirect(reverse("policy:backtest", kwargs={"slug": slug, "backtest_id": run.public_id}))


@require_GET
def backtest_page(request: HttpRequest, slug: str, backtest_id: str) -> HttpResponse:
    """Progress while it runs (HTMX polls the partial), the comparison when done."""
    import uuid

    from django.http import Http404

    from agents.policy.models import PolicyBacktest

    tenant, _ = get_policy_tenant_for_member(request.user, slug)
    try:
        public_id = uuid.UUID(backtest_id)
    except ValueError as exc:
        raise Http404("No such backtest") from exc
    run = (
        PolicyBacktest.objects.select_related("draft", "baseline")
        .filter(tenant=tenant, public_id=public_id)
        .first()
    )
    if run is None:
        raise Http404("No such backtest")
    name = "policy/backtest.html#backtest-result" if request.htmx else "policy/backtest.html"
    return _render(request, name, {"tenant": tenant, "run": run})
