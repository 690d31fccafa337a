import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger("veche.proposals")


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

        from django.contrib.auth.signals import user_logged_in

        def on_login(sender: Any, *, user: Any, **_: Any) -> None:
            # A teller signing in gives their share of any vote being counted (decision
            # 0131). Their key is at hand only during the login that unlocked it.
            private_key = getattr(user, "unlocked_private_key", None)
            if private_key is None:
                return
            try:
                services.give_shares_on_login(member=user, private_key=private_key)
            except Exception:
                logger.warning("a teller's share could not be given at login", exc_info=False)

        user_logged_in.connect(on_login, dispatch_uid="proposals.tellers", weak=False)
