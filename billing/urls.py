from __future__ import annotations

from django.urls import path

from billing import contract_views, views

app_name = "billing"

urlpatterns = [
    path("", views.billing_page, name="page"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<str:month>/", views.statement_page, name="statement"),
    path("statements/<str:month>/statement.csv", views.statement_csv, name="statement-csv"),
    path("statements/<str:month>/ledger.csv", views.ledger_csv, name="ledger-csv"),
    path("statements/<str:month>/print/", views.statement_print, name="statement-print"),
    path("staffing/", views.staffing_page, name="staffing"),
    path("contracts/", contract_views.contracts_page, name="contracts"),
]
