from __future__ import annotations

from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.contrib import admin
from django.urls import include, path

from desk import api, board_views, health, views
from integrations.messaging.webhooks import whatsapp_endpoint
from tenants import security

desk_patterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/next/", views.claim_next, name="next"),
    path("contacts/<str:contact_id>/", views.contact_detail, name="contact"),
    path(
        "contacts/<str:contact_id>/proposals/<str:proposal_id>/approve/",
        views.approve,
        name="approve",
    ),
    path(
        "contacts/<str:contact_id>/proposals/<str:proposal_id>/reject/",
        views.reject,
        name="reject",
    ),
    path(
        "contacts/<str:contact_id>/proposals/<str:proposal_id>/co-approve/",
        views.co_approve,
        name="co-approve",
    ),
    path("contacts/<str:contact_id>/claim/", views.claim, name="claim"),
    path("contacts/<str:contact_id>/release/", views.release, name="release"),
    path("contacts/<str:contact_id>/reassign/", views.reassign, name="reassign"),
    path("contacts/<str:contact_id>/note/", views.note, name="note"),
    path("contacts/<str:contact_id>/reply/", views.reply, name="reply"),
    path("contacts/<str:contact_id>/carrier-claim/", views.carrier_claim, name="carrier-claim"),
    path("contacts/<str:contact_id>/deliveries/", views.deliveries, name="deliveries"),
    path(
        "contacts/<str:contact_id>/messages/<str:message_id>/send-again/",
        views.send_again,
        name="send-again",
    ),
    path("t/<slug:slug>/overrides/", views.overrides, name="overrides"),
    path("t/<slug:slug>/macros/", views.macros, name="macros"),
    path("t/<slug:slug>/macros/<str:macro_id>/delete/", views.macro_delete, name="macro-delete"),
    path("t/<slug:slug>/qa/", views.qa, name="qa"),
    path("board/", board_views.overview, name="board"),
    path("board/board.csv", board_views.overview_csv, name="board-csv"),
    path("t/<slug:slug>/board/", board_views.tenant_board, name="tenant-board"),
    path("t/<slug:slug>/board/board.csv", board_views.tenant_board_csv, name="tenant-board-csv"),
    path("t/<slug:slug>/sla/", board_views.sla_policies, name="sla"),
    path("csat/<str:token>/", board_views.csat_survey, name="csat"),
]

api_patterns = [
    path("contacts", api.contacts, name="contacts"),
    path("contacts/<str:contact_id>", api.contact, name="contact"),
    path("openapi.json", api.openapi, name="openapi"),
]

# The admin signs in through the same login (rate limits, MFA) as everyone else.
admin.site.login = security.admin_login
admin.site.has_permission = security.admin_has_permission

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include((api_patterns, "api"))),
    # Meta verifies a WhatsApp callback URL with a GET before posting to it.
    path("webhooks/whatsapp/<str:connection_id>", whatsapp_endpoint, name="whatsapp-webhook"),
    path(
        "webhooks/postmark/events",
        PostmarkTrackingWebhookView.as_view(),
        name="postmark-tracking",
    ),
    path("webhooks/", include("integrations.urls")),
    path("t/<slug:slug>/billing/", include("billing.urls")),
    path("t/<slug:slug>/policy/", include("agents.policy.urls")),
    path("t/<slug:slug>/simulator/", include("agents.simulator.urls")),
    path("t/<slug:slug>/connections/", include("integrations.connection_urls")),
    path("t/<slug:slug>/shipments/", include("integrations.shipment_urls")),
    path("carriers/", include("integrations.carrier_urls")),
    path("t/<slug:slug>/", include("agents.nudges.urls")),
    path("t/", include("tenants.urls")),
    path("contacts/<str:contact_id>/trace/", include("agents.trace_urls")),
    path("admin/", admin.site.urls),
    path("", include((desk_patterns, "desk"))),
]

# A database or queue outage answers 503 with a page that says so, not a bare 500.
handler500 = "desk.outage.handler500"
