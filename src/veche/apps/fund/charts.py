"""Charts of the fund as SVG, drawn on the server with ``leather`` (docs/decisions/0040).

leather writes plain SVG with presentation attributes: no script, no style sheet, no
external reference. :func:`clean` still refuses anything that would make the image
reach out or run code, should a future version start emitting it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import leather

from veche.domain import ledger

_FORBIDDEN = re.compile(r"<script|javascript:|(?:href|src)\s*=\s*[\"'](?!#)|@import|url\(", re.I)
_XMLNS = 'xmlns="http://www.w3.org/2000/svg"'


def clean(svg: str) -> str:
    """Return ``svg`` if it contains nothing active or external; raise ValueError if not."""
    body = svg.replace(_XMLNS, "")
    if _FORBIDDEN.search(body) or "http://" in body or "https://" in body:
        raise ValueError("the chart would contain a script or an external reference")
    return svg


def _major(amount: int, currency: str) -> float:
    return float(Decimal(amount).scaleb(-ledger.CURRENCY_EXPONENTS.get(currency, 2)))


def _empty(title: str) -> str:
    chart = leather.Chart(title)
    chart.add_line([(0, 0), (1, 0)], name="no data yet")
    return chart.to_svg(width=640, height=320)


def balance_chart(
    transactions: list[ledger.Transaction], account_id: str, currency: str, title: str
) -> str:
    """Return an SVG line of the account's balance after each transaction."""
    history = ledger.balance_history(transactions, account_id, currency)
    if len(history) < 2:
        if history:
            moment, value = history[0]
            history = [(moment - dt.timedelta(days=1), 0), (moment, value)]
        else:
            return clean(_empty(title))
    # leather's time scale wants naive datetimes: every moment here is UTC.
    points = [(m.astimezone(dt.UTC).replace(tzinfo=None), v) for m, v in history]
    chart = leather.Chart(title)
    chart.add_x_scale(points[0][0], max(points[-1][0], points[0][0] + dt.timedelta(minutes=1)))
    chart.add_line([(moment, _major(value, currency)) for moment, value in points])
    return clean(chart.to_svg(width=640, height=320))


def monthly_chart(transactions: list[ledger.Transaction], currency: str, title: str) -> str:
    """Return SVG lines of contributions and disbursements per month."""
    ins = ledger.monthly_totals(transactions, ledger.TransactionKind.CONTRIBUTION, currency)
    outs = ledger.monthly_totals(transactions, ledger.TransactionKind.DISBURSEMENT, currency)
    months = sorted({(y, m) for y, m, _ in ins} | {(y, m) for y, m, _ in outs})
    if not months:
        return clean(_empty(title))
    first, last = months[0], months[-1]
    axis: list[tuple[int, int]] = []
    year, month = first
    while (year, month) <= last:
        axis.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if len(axis) == 1:
        year, month = axis[0]
        axis.insert(0, (year - 1, 12) if month == 1 else (year, month - 1))
    totals_in = {(y, m): t for y, m, t in ins}
    totals_out = {(y, m): t for y, m, t in outs}
    chart = leather.Chart(title)
    chart.add_x_scale(dt.date(*axis[0], 1), dt.date(*axis[-1], 1))
    chart.add_line(
        [(dt.date(y, m, 1), _major(totals_in.get((y, m), 0), currency)) for y, m in axis],
        name="contributions",
    )
    chart.add_line(
        [(dt.date(y, m, 1), _major(totals_out.get((y, m), 0), currency)) for y, m in axis],
        name="disbursements",
    )
    return clean(chart.to_svg(width=640, height=320))
