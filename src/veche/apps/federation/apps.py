from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "veche.apps.federation"
    label = "federation"
