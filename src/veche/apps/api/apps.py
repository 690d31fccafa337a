from typing import Any

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "veche.apps.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A removed member's tokens and feeds go with them, sealed keys and all (their
        # grants are deleted too, so the copies could open nothing new; nor anything old).
        from veche.apps.api import services
        from veche.apps.federation.signals import member_removed

        def on_removed(sender: Any, *, member: Any, **kwargs: Any) -> None:
            services.revoke_all(member=member)

        member_removed.connect(on_removed, dispatch_uid="api.revoke_all", weak=False)
