"""Steps shared by the proposals' HTTP scenarios: what a member does in a browser.

Imported by the test modules beside it (pytest puts this directory on ``sys.path``).
Every step goes through Django's test client, so each one exercises the URL, the
view, the form, the service and the domain together.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

T0 = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
DETAIL = re.compile(r"^/proposals/(\d+)/$")


def at(**delta: float) -> dt.datetime:
    """Return T0 moved by ``delta`` (timedelta keywords)."""
    return T0 + dt.timedelta(**delta)


def local(moment: dt.datetime) -> str:
    """Return ``moment`` as a datetime-local form value (read as UTC by the form)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def text(response: Any) -> str:
    return response.content.decode()


def propose(client: Any, *, kind: str, title: str, **fields: Any) -> int:
    """POST /proposals/new/ and return the new proposal's id (asserting it was created)."""
    data = {"kind": kind, "title": title, "body": fields.pop("body", f"About {title}.")}
    for key, value in fields.items():
        if isinstance(value, dt.datetime):
            value = local(value)
        elif isinstance(value, list | tuple):
            value = "\n".join(value)
        elif value is True:
            value = "on"
        data[key] = value
    response = client.post("/proposals/new/", data)
    assert response.status_code == 302, text(response)
    match = DETAIL.match(response["Location"])
    assert match, response["Location"]
    return int(match.group(1))


def respond(client: Any, pid: int, position: str, reason: str = "", version: int = 1) -> Any:
    return client.post(
        f"/proposals/{pid}/respond/",
        {"position": position, "reason": reason, "version": version},
    )


def page(client: Any, pid: int) -> str:
    response = client.get(f"/proposals/{pid}/")
    assert response.status_code == 200
    return text(response)


def action(client: Any, pid: int, what: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(f"/proposals/{pid}/{what}/", data or {})


def count_by_tellers(pid: int, members: list[Any], clients: list[Any], needed: int = 2) -> None:
    """Have ``needed`` of the secret vote's tellers (among ``members``) give their shares."""
    from veche.apps.proposals.models import Teller

    tellers = set(Teller.objects.filter(vote__proposal_id=pid).values_list("member_id", flat=True))
    chosen = [c for m, c in zip(members, clients, strict=True) if m.pk in tellers][:needed]
    assert len(chosen) == needed, "not enough tellers among these members"
    for client in chosen:
        assert action(client, pid, "count").status_code == 302


def counts() -> tuple[int, ...]:
    """Return how many rows every proposals table holds, to show nothing was stored."""
    from veche.apps.proposals.models import (
        BallotBox,
        Comment,
        DecisionRecord,
        Proposal,
        ProposalEvent,
        ProposalVersion,
    )

    return tuple(
        m.objects.count()
        for m in (Proposal, ProposalVersion, ProposalEvent, BallotBox, DecisionRecord, Comment)
    )
