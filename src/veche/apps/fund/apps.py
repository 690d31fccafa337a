from typing import Any

from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "veche.apps.fund"
    label = "fund"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The fund follows decisions without the proposals app knowing the fund exists.
        from veche.apps.fund import inbox, services
        from veche.apps.proposals.signals import inbox_wanted, proposal_decided

        def on_decided(sender: Any, *, proposal: Any, decision: Any, **kwargs: Any) -> None:
            services.mark_decided(proposal, decision)

        proposal_decided.connect(on_decided, dispatch_uid="fund.mark_decided", weak=False)

        def on_inbox(sender: Any, *, member: Any, **kwargs: Any) -> list[dict[str, Any]]:
            return inbox.items_for(member)

        inbox_wanted.connect(on_inbox, dispatch_uid="fund.inbox", weak=False)
