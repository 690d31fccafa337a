from django.urls import path

from veche.apps.fund import views

app_name = "fund"

urlpatterns = [
    path("fund/", views.fund, name="index"),
    path("fund/contribute/", views.contribute, name="contribute"),
    path("fund/requests/money/", views.request_money, name="request_money"),
    path("fund/requests/help/", views.request_help, name="request_help"),
    path("fund/requests/<int:request_id>/", views.request_detail, name="request"),
    path("fund/requests/<int:request_id>/answer/", views.answer, name="answer"),
    path("fund/requests/<int:request_id>/close/", views.close, name="close"),
    path("fund/disburse/", views.disburse, name="disburse"),
    path("fund/transfer/", views.transfer, name="transfer"),
    path("fund/accounts/<slug:key>/", views.account_statement, name="statement"),
    path("fund/export.csv", views.export_csv, name="export"),
    path("fund/charts/balance-<str:currency>.svg", views.balance_chart, name="balance_chart"),
    path("fund/charts/monthly-<str:currency>.svg", views.monthly_chart, name="monthly_chart"),
]
