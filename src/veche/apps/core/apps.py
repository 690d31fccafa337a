from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "veche.apps.core"
    label = "core"

    def ready(self) -> None:
        from veche.apps.core import postgres  # psycopg is imported once Django runs

        connection_created.connect(postgres.on_connection_created)
