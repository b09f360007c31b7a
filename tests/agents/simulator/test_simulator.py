"""The onboarding simulator: an account manager uploads past tickets, a worker
replays them through the agent in a dry run, the page shows the estimate."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import AgentRun
from agents.policy.actions import create_draft, publish_version
from agents.simulator import actions, report
from agents.simulator.models import Simulation
from billing.models import UsageRecord
from desk.models import Contact, Message, Proposal
from integrations.messaging.models import OutboundMessage
from integrations.models import Customer, Order, Refund, Shipment
from tenants.actor import Actor
from tenants.models import AuditEvent
from tenants.onboarding import checklist, missing
from tenants.roles import Role
from tests.conftest import wait_for
from tests.factories import make_member, make_tenant

# Rows 6 and 8 cannot be read. Of the six tickets left the agent answers two
# parcels in transit and cancels an unshipped order alone; a carrier exception,
# a refund on a high-value order (a risk signal) and a return whose reason the
# customer did not give go to a human.
EXPORT = """ticket_id,created_at,channel,customer_email,subject,body,order_number,order_total,order_status,tracking_status,delivered_at
A1,2026-03-01T09:00:00Z,email,ann@example.com,Where is it,Where is my order?,5501,40.00,,in_transit,
A2,2026-03-04T09:00:00Z,chat,bob@example.com,Tracking,any update on my package?,5502,25.00,,out_for_delivery,
A3,2026-03-06T09:00:00Z,email,cy@example.com,Parcel,The carrier says there is a problem with my delivery,5503,60.00,,exception,
A4,2026-03-10T09:00:00Z,email,dee@example.com,Refund,I want a refund for order 5504 it arrived damaged,,900.00,,delivered,2026-03-08
A5,2026-03-10T09:00:00Z,email,eli@example.com,Help,,5505,30.00,,,
A6,2026-03-10T09:00:00Z,form,fay@example.com,Cancel,please cancel my order 5506,,30.00,unfulfilled,,
A7,yesterday,email,gus@example.com,Hi,where is my parcel,5507,20.00,,in_transit,
A8,2026-03-10T11:00:00Z,email,hal@example.com,Return,I'd like to return order 5508 please,5508,30.00,,delivered,2026-03-05
"""
REFUND_ALL = {
    "format": 1,
    "name": "Refund everything",
    "rules": [{"id": "refund-all", "when": {}, "then": {"outcome": "refund"}}],
}
PRICES = {
    "currency": "USD",
    "ai_resolution_price": "1.50",
    "human_resolution_price": "5.00",
    "deflection_floor_percent": "70",
}


def _upload(client, tenant, content: bytes | str, name: str = "tickets.csv", **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        reverse("simulator:page", kwargs={"slug": tenant.slug}),
        {"tickets": SimpleUploadedFile(name, data, content_type="text/csv"), **PRICES, **fields},
    )


@pytest.mark.django_db(transaction=True)
def test_an_account_manager_uploads_tickets_and_reads_the_estimate(client, celery_worker):
    tenant = make_tenant()
    publish_version(create_draft(tenant, REFUND_ALL, Actor.system()), Actor.system())
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    response = _upload(client, tenant, EXPORT)

    simulation = Simulation.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "simulator:run", kwargs={"slug": tenant.slug, "simulation_id": simulation.public_id}
    )
    wait_for(
        lambda: Simulation.objects.get(pk=simulation.pk).status == Simulation.Status.DONE,
        timeout=120,
    )
    simulation.refresh_from_db()
    summary = simulation.result["summary"]
    assert (summary["tickets"], summary["ai"], summary["human"]) == (6, 3, 3)
    assert (summary["deflection_percent"], summary["meets_floor"]) == ("50.0", False)
    assert {b["key"]: b["count"] for b in summary["reasons"]} == {
        "delivery_problem": 1,
        "no_risk_flags": 1,
        "policy_decision": 1,
    }
    assert {b["key"]: (b["ai"], b["count"]) for b in summary["intents"]} == {
        "wismo": (2, 2),
        "delivery_exception": (0, 1),
        "refund_request": (0, 1),
        "cancel_order": (1, 1),
        "return_request": (0, 1),
    }
    # 6 tickets over 1-10 March: 6 × 30.44 / 10 ≈ 18 a month, half of them by the agent:
    # 9 × 1.50 + 9 × 5.00 = 58.50 against 18 × 6.20 = 111.60 at the legacy centre.
    assert summary["month"]["volume"] == 18
    assert (summary["month"]["price"], summary["month"]["legacy"]) == ("58.50", "111.60")
    assert simulation.result["bad_rows"] == [
        {"row": 6, "reason": "the body is empty"},
        {
            "row": 8,
            "reason": "created_at 'yesterday' is not a date such as 2026-03-14 or "
            "2026-03-14T09:30:00Z",
        },
    ]

    page = client.get(response["Location"]).content.decode()
    assert 'id="count-tickets">6<' in page
    assert 'id="deflection" class="fail">50.0%<' in page
    assert 'id="month-price">58.50<' in page and 'id="month-legacy">111.60<' in page
    assert 'id="reason-no_risk_flags">1<' in page and 'id="intent-wismo">2 / 2<' in page
    assert "the body is empty" in page and 'id="bad-rows"' in page
    assert page.count("<tr><td>") >= 6  # the sample rows, one per ticket here


@pytest.mark.django_db(transaction=True)
def test_the_dry_run_leaves_no_contact_refund_usage_or_message_behind(client, celery_worker):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    _upload(client, tenant, EXPORT)
    wait_for(lambda: Simulation.objects.filter(status=Simulation.Status.DONE).exists(), 120)

    # The cancellation was approved (it would refund the order live) and the
    # parcels were answered; none of it is left.
    for model in (
        Contact,
        Message,
        Proposal,
        AgentRun,
        Refund,
        UsageRecord,
        OutboundMessage,
        Order,
        Customer,
        Shipment,
    ):
        assert model.objects.count() == 0, model.__name__
    assert sorted(AuditEvent.objects.values_list("verb", flat=True)) == [
        "simulation.finish",
        "simulation.start",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        ("ticket_id,subject,message\n1,Hi,where is it\n", "no 'body' column"),
        ("body\n" + "where is my order\n" * 20_001, "more than 20,000 tickets"),
        ("body\n" + "x" * (10 * 1024 * 1024), "the limit is 10 MB"),
        ("", "empty"),
    ],
    ids=["binary", "no-body-column", "too-many-rows", "too-big", "empty"],
)
def test_a_file_that_is_not_a_ticket_export_gets_a_form_error(client, content, error):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    response = _upload(client, tenant, content)

    assert response.status_code == 400
    assert error in html.unescape(response.content.decode())
    assert not Simulation.objects.exists()


@pytest.mark.django_db
def test_the_form_offers_the_contract_in_force_and_the_sample(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    page = client.get(reverse("simulator:page", kwargs={"slug": tenant.slug})).content.decode()
    assert 'name="human_resolution_price" value="5.20"' in page
    assert 'name="deflection_floor_percent" value="70.0"' in page
    assert 'id="no-policy"' in page

    sample = client.get(reverse("simulator:sample", kwargs={"slug": tenant.slug}))
    assert sample["Content-Disposition"] == 'attachment; filename="sample-tickets.csv"'
    header = sample.content.decode().splitlines()[0]
    assert header.startswith("ticket_id,created_at,channel,customer_email,subject,body")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SPECIALIST, Role.LEAD, Role.MERCHANT_ADMIN])
def test_only_account_managers_may_upload(client, role):
    tenant = make_tenant()
    client.force_login(make_member(tenant, role))
    assert _upload(client, tenant, EXPORT).status_code == 403
    assert not Simulation.objects.exists()


@pytest.mark.django_db
def test_another_tenants_simulation_is_not_found(client, django_capture_on_commit_callbacks):
    mine, theirs = make_tenant(), make_tenant()
    with django_capture_on_commit_callbacks(execute=False):
        simulation = _start(theirs)
    client.force_login(make_member(mine, Role.ACCOUNT_MANAGER))
    url = reverse(
        "simulator:run", kwargs={"slug": mine.slug, "simulation_id": simulation.public_id}
    )
    assert client.get(url).status_code == 404


def _start(tenant, text: str = EXPORT) -> Simulation:
    return actions.start_simulation(
        tenant,
        Actor.system(),
        csv_text=text,
        file_name="tickets.csv",
        currency="USD",
        ai_resolution_price=Decimal("1.40"),
        human_resolution_price=Decimal("5.20"),
        deflection_floor=Decimal("0.700"),
    )


@pytest.mark.django_db
def test_a_batch_delivered_twice_is_counted_once(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        simulation = _start(tenant)
        assert actions.run_batch(simulation.pk, 0) == Simulation.Status.DONE
        assert actions.run_batch(simulation.pk, 0) == "skipped"
    simulation.refresh_from_db()
    assert simulation.result["tally"]["tickets"] == 6
    assert len(queued) == 1  # the first batch; six tickets need no second one


@pytest.mark.django_db
def test_a_run_can_be_redone_from_the_stored_file(client, django_capture_on_commit_callbacks):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    with django_capture_on_commit_callbacks(execute=False):
        first = _start(tenant)
        response = client.post(
            reverse(
                "simulator:rerun", kwargs={"slug": tenant.slug, "simulation_id": first.public_id}
            )
        )
    again = Simulation.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and str(again.public_id) in response["Location"]
    assert again.csv_text == EXPORT and again.total == 6
    assert again.human_resolution_price == Decimal("5.20")


@pytest.mark.django_db
def test_the_progress_partial_polls_until_done(client, django_capture_on_commit_callbacks):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    with django_capture_on_commit_callbacks(execute=False):
        simulation = _start(tenant)
    url = reverse(
        "simulator:run", kwargs={"slug": tenant.slug, "simulation_id": simulation.public_id}
    )
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="simulation-result"')
    assert 'hx-trigger="every 1s"' in partial and 'id="simulation-progress"' in partial
    assert "<html" not in partial


@pytest.mark.django_db
def test_the_simulator_is_an_optional_onboarding_step(client):
    tenant = make_tenant()
    step = next(s for s in checklist(tenant) if s.step.key == "simulation")
    assert step.step.optional and not step.done
    assert "simulation" not in [s.key for s in missing(tenant)]

    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    page = client.get(reverse("tenants:onboarding", kwargs={"slug": tenant.slug})).content.decode()
    assert reverse("simulator:page", kwargs={"slug": tenant.slug}) in page


@pytest.mark.parametrize(
    ("guardrail", "detail", "key"),
    [
        (
            "action_needed",
            "Shipment is exception: a delivery problem needs a specialist",
            "delivery_problem",
        ),
        ("action_needed", "Other: no automatic action for this intent.", "intent_not_automated"),
        ("action_needed", "Something the report has no group for", "action_needed"),
        ("no_risk_flags", "Returns policy says review", "no_risk_flags"),
    ],
)
def test_a_case_the_planner_hands_over_is_grouped_by_what_it_said(guardrail, detail, key):
    assert report.reason_key(guardrail, detail) == key


@pytest.mark.parametrize(
    ("given", "first", "last", "expected"),
    [
        (None, date(2026, 3, 1), date(2026, 3, 10), (304, "100 tickets over 10 days")),
        (None, date(2026, 3, 1), date(2026, 3, 1), (3044, "100 tickets over 1 day")),
        (None, None, None, (100, "the file taken as one month (no dates in it)")),
        (2500, date(2026, 3, 1), date(2026, 3, 10), (2500, "as entered")),
    ],
)
def test_the_files_volume_is_scaled_to_a_month(given, first, last, expected):
    assert report.monthly_volume(100, first, last, given) == expected
