from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "veche.apps.proposals"
    label = "proposals"
    default_auto_field = "django.db.models.BigAutoField"
