from __future__ import annotations

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_list, name="list"),
    path("new/", views.tenant_create, name="create"),
    path("<slug:slug>/onboarding/", views.onboarding_page, name="onboarding"),
    path("<slug:slug>/settings/", views.settings_page, name="settings"),
    path("<slug:slug>/members/", views.members_page, name="members"),
    path("<slug:slug>/members/role/", views.member_role, name="member-role"),
    path("<slug:slug>/api-keys/", views.api_keys_page, name="api-keys"),
    path("<slug:slug>/api-keys/<str:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("<slug:slug>/audit/", views.audit_page, name="audit"),
]
