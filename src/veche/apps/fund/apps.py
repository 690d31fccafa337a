from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "veche.apps.fund"
    label = "fund"
    default_auto_field = "django.db.models.BigAutoField"
