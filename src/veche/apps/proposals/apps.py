from typing import Any

from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "veche.apps.proposals"
    label = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The organisation tells what changed; proposals follow, in the same transaction,
        # without the federation app knowing proposals exist.
        from veche.apps.federation.signals import member_removed, membership_changed
        from veche.apps.proposals import services

        def on_removed(
            sender: Any, *, group: Any, member: Any, by: Any, at: Any, **extra: Any
        ) -> None:
            payload = {"member": member.pk, "by": by.pk if by else None, "at": at.isoformat()}
            if extra.get("decision") is not None:
                payload["decision"] = extra["decision"]
            services.append_to_log(group_id=group.pk, kind="removal", payload=payload)

        def on_changed(sender: Any, *, group: Any, at: Any, **_: Any) -> None:
            services.mark_due(services.open_in(group), now=at)

        member_removed.connect(on_removed, dispatch_uid="proposals.removal", weak=False)
        membership_changed.connect(on_changed, dispatch_uid="proposals.membership", weak=False)
