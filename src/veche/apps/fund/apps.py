from typing import Any

from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "veche.apps.fund"
    label = "fund"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The fund follows decisions without the proposals app knowing the fund exists.
        from veche.apps.fund import services
        from veche.apps.proposals.signals import proposal_decided

        def on_decided(sender: Any, *, proposal: Any, decision: Any, **kwargs: Any) -> None:
            services.mark_decided(proposal, decision)

        proposal_decided.connect(on_decided, dispatch_uid="fund.mark_decided", weak=False)
