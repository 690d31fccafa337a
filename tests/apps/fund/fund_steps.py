"""Steps shared by the fund's tests: what a coordinator does in a browser."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

T0 = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


def text(response: Any) -> str:
    return response.content.decode()


def token(client: Any, url: str = "/fund/") -> str:
    """GET a page and return the form token it hands out."""
    response = client.get(url)
    assert response.status_code == 200
    match = TOKEN.search(text(response))
    # Members who are not coordinators get no forms: a forged post makes its own token.
    return match.group(1) if match else secrets.token_urlsafe(24)


def post(client: Any, url: str, data: dict[str, Any], *, fresh: bool = True) -> Any:
    if fresh and "token" not in data:
        data = {**data, "token": token(client)}
    return client.post(url, data)


def contribute(client: Any, amount: str, currency: str = "EUR", memo: str = "") -> Any:
    return post(client, "/fund/contribute/", {"amount": amount, "currency": currency, "memo": memo})


def request_money(client: Any, amount: str, currency: str, purpose: str) -> int:
    response = post(
        client,
        "/fund/requests/money/",
        {"amount": amount, "currency": currency, "purpose": purpose},
    )
    assert response.status_code == 302, text(response)
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def carry(client: Any, pid: int, position: str, reason: str = "") -> Any:
    return client.post(
        f"/proposals/{pid}/carry/", {"position": position, "version": 1, "reason": reason}
    )


def counts() -> tuple[int, ...]:
    """Return how many rows every fund table holds, to show nothing was stored."""
    from veche.apps.fund.models import Account, Entry, FundTransaction, HelpAnswer, SupportRequest
    from veche.apps.proposals.models import Proposal

    return tuple(
        m.objects.count()
        for m in (Account, FundTransaction, Entry, SupportRequest, HelpAnswer, Proposal)
    )
