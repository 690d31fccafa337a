from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "veche.apps.core"
    label = "core"
