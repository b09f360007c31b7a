"""Policy versions: numbering, publishing, immutability, import and the demo seed."""

from __future__ import annotations

import pytest

from agents.policy import actions
from agents.policy.cache import compiled_policy, version_for
from agents.policy.demo import seed_demo_policies
from agents.policy.models import ImmutableVersionError, PolicyVersion
from agents.policy.schema import PolicyFormatError, dump_text
from tenants.actor import Actor
from tenants.models import AuditEvent
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def _doc(outcome: str = "refund") -> dict:
    return {"format": 1, "rules": [{"id": "all", "then": {"outcome": outcome}}]}


def test_drafts_are_numbered_in_order_per_tenant():
    tenant, other = make_tenant(), make_tenant()
    assert [actions.create_draft(tenant, _doc(), SYSTEM).number for _ in range(3)] == [1, 2, 3]
    assert actions.create_draft(other, _doc(), SYSTEM).number == 1


def test_a_draft_can_change_until_it_is_published():
    tenant = make_tenant()
    user = make_member(tenant, "account_manager")
    version = actions.create_draft(tenant, _doc(), Actor.member(user))
    version = actions.update_draft(version, _doc("store_credit"), Actor.member(user))
    assert version.rules[0]["then"]["outcome"] == "store_credit"
    assert version.created_by == user

    version = actions.publish_version(version, Actor.member(user))
    assert version.is_published and version.published_at is not None
    with pytest.raises(ImmutableVersionError):
        actions.update_draft(version, _doc("reject"), SYSTEM)
    verbs = list(AuditEvent.objects.filter(tenant=tenant).values_list("verb", flat=True))
    assert sorted(verbs) == ["policy.draft", "policy.edit", "policy.publish"]


@pytest.mark.parametrize(
    "change",
    [
        lambda v: (setattr(v, "document", _doc("reject")), v.save()),
        lambda v: PolicyVersion.objects.filter(pk=v.pk).update(document=_doc("reject")),
        lambda v: v.delete(),
        lambda v: PolicyVersion.objects.filter(pk=v.pk).delete(),
        # A stale copy loaded while it was still a draft must not overwrite it either.
        lambda v: PolicyVersion(
            pk=v.pk, policy=v.policy, number=v.number, document=_doc("reject")
        ).save(),
    ],
)
def test_a_published_version_is_immutable(change):
    tenant = make_tenant()
    version = actions.publish_version(actions.create_draft(tenant, _doc(), SYSTEM), SYSTEM)
    with pytest.raises(ImmutableVersionError):
        change(version)
    stored = PolicyVersion.objects.get(pk=version.pk)
    assert stored.document == _doc() and stored.is_published


def test_drafts_can_be_deleted():
    tenant = make_tenant()
    draft = actions.create_draft(tenant, _doc(), SYSTEM)
    PolicyVersion.objects.filter(pk=draft.pk).delete()
    assert not PolicyVersion.objects.exists()


def test_publishing_twice_changes_nothing():
    tenant = make_tenant()
    version = actions.publish_version(actions.create_draft(tenant, _doc(), SYSTEM), SYSTEM)
    again = actions.publish_version(version, SYSTEM)
    assert again.published_at == version.published_at
    assert AuditEvent.objects.filter(verb="policy.publish").count() == 1


def test_invalid_documents_are_never_stored():
    tenant = make_tenant()
    with pytest.raises(PolicyFormatError):
        actions.create_draft(tenant, {"format": 1, "rules": [{"id": "x"}]}, SYSTEM)
    assert not PolicyVersion.objects.exists()


def test_the_policy_in_force_is_the_latest_published_version():
    tenant = make_tenant(currency="GBP", time_zone="Europe/London")
    assert compiled_policy(tenant) is None
    actions.publish_version(actions.create_draft(tenant, _doc("refund"), SYSTEM), SYSTEM)
    actions.create_draft(tenant, _doc("reject"), SYSTEM)  # a draft is never in force
    policy = compiled_policy(tenant)
    assert (policy.version, policy.rules[0].outcome, policy.currency) == (1, "refund", "GBP")
    assert compiled_policy(tenant, 2).rules[0].outcome == "reject"
    assert version_for(tenant, 9) is None


def test_a_changed_draft_is_compiled_again():
    tenant = make_tenant()
    draft = actions.create_draft(tenant, _doc("refund"), SYSTEM)
    assert compiled_policy(tenant, 1).rules[0].outcome == "refund"
    actions.update_draft(draft, _doc("reject"), SYSTEM)
    assert compiled_policy(tenant, 1).rules[0].outcome == "reject"


def test_importing_the_same_file_twice_creates_one_version():
    tenant = make_tenant()
    text = dump_text(_doc())
    first, created = actions.import_policy(tenant, text, SYSTEM, publish=True)
    second, created_again = actions.import_policy(tenant, text, SYSTEM, publish=True)
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk and second.is_published
    changed, created = actions.import_policy(tenant, dump_text(_doc("reject")), SYSTEM)
    assert (changed.number, changed.status, created) == (2, "draft", True)


def test_seed_demo_policies_publishes_each_merchants_policy_once():
    for slug in ("northwind", "kettle", "lumen"):
        make_tenant(slug=slug)
    first = seed_demo_policies()
    assert [(v.policy.tenant.slug, v.number, v.status) for v in first] == [
        ("kettle", 1, "published"),
        ("lumen", 1, "published"),
        ("northwind", 1, "published"),
    ]
    assert len(first[2].rules) >= 60
    seed_demo_policies()
    assert PolicyVersion.objects.count() == 3
