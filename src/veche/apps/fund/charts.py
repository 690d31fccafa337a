"""Charts of the fund as SVG, drawn on the server with ``leather`` (docs/decisions/0040).

Honest by construction (docs/decisions/0103-honest-charts.md): a balance changes only
when money moves, so it is drawn as steps, on an axis that starts at zero; money moved
per month is drawn as columns for the months in which it moved, and no other (no month
is invented to fill the axis). Both read what the selectors return from the stored
running totals, never a replay of the ledger. Labels come in the member's language.

leather writes plain SVG with presentation attributes: no script, no style sheet, no
external reference. :func:`clean` still refuses anything that would make the image
reach out or run code, should a future version start emitting it.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import leather
from babel.numbers import get_decimal_symbol
from django.utils.translation import gettext as _

from veche.apps.core.l10n import babel_locale, format_day, format_month
from veche.domain import ledger

_FORBIDDEN = re.compile(r"<script|javascript:|(?:href|src)\s*=\s*[\"'](?!#)|@import|url\(", re.I)
_XMLNS = 'xmlns="http://www.w3.org/2000/svg"'
WIDTH, HEIGHT = 640, 320
IN_COLOUR, OUT_COLOUR, LINE_COLOUR = "#2f6f4f", "#b5523b", "#2f4f6f"


def clean(svg: str) -> str:
    """Return ``svg`` if it contains nothing active or external; raise ValueError if not."""
    body = svg.replace(_XMLNS, "")
    if _FORBIDDEN.search(body) or "http://" in body or "https://" in body:
        raise ValueError("the chart would contain a script or an external reference")
    return svg


def _major(amount: int, currency: str) -> float:
    return float(Decimal(amount).scaleb(-ledger.CURRENCY_EXPONENTS.get(currency, 2)))


def _amount_tick(value: Any, index: int, count: int) -> str:
    """Return an axis amount as the member's language writes it ("1 500", "2,5")."""
    number = Decimal(str(value)).normalize()
    whole, _sep, fraction = f"{number:f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u202f")
    mark = get_decimal_symbol(babel_locale())
    return f"{grouped}{mark}{fraction}" if fraction else grouped


def _empty(title: str) -> str:
    # One series draws no legend: the title says that there is nothing to show yet.
    chart = leather.Chart(f"{title}: {_('nothing has moved yet')}")
    chart.add_y_scale(0, 1)
    chart.add_x_scale(0, 1)
    chart.add_x_axis(ticks=[])
    chart.add_y_axis(ticks=[0], tick_formatter=_amount_tick)
    chart.add_line([(0, 0), (1, 0)], stroke_color=LINE_COLOUR)
    return clean(chart.to_svg(width=WIDTH, height=HEIGHT))


def balance_chart(
    steps: list[tuple[dt.datetime, int]], currency: str, title: str, *, until: dt.datetime
) -> str:
    """Return the balance as steps from zero: flat while nothing moves, up or down at once.

    ``steps`` are (moment, balance after) oldest first; the last step is drawn to ``until``.
    """
    if not steps:
        return _empty(title)
    # leather's time scale wants naive datetimes: every moment here is UTC.
    moments = [m.astimezone(dt.UTC).replace(tzinfo=None) for m, _b in steps]
    end = max(until.astimezone(dt.UTC).replace(tzinfo=None), moments[-1] + dt.timedelta(days=1))
    points: list[tuple[dt.datetime, float]] = [(moments[0], 0.0)]
    previous = 0.0
    for moment, (_m, balance) in zip(moments, steps, strict=True):
        value = _major(balance, currency)
        points += [(moment, previous), (moment, value)]
        previous = value
    points.append((end, previous))
    top = max(value for _m, value in points)
    chart = leather.Chart(title)
    chart.add_x_scale(moments[0], end)
    chart.add_y_scale(0, top if top > 0 else 1)
    chart.add_x_axis(tick_formatter=lambda value, i, n: format_day(value))
    chart.add_y_axis(tick_formatter=_amount_tick)
    chart.add_line(points, name=_("balance, %(currency)s") % {"currency": currency},
                   stroke_color=LINE_COLOUR)  # fmt: skip
    return clean(chart.to_svg(width=WIDTH, height=HEIGHT))


class _HalfColumns(leather.Columns):  # type: ignore[misc]
    """Columns drawn in one half of their category's band: two series side by side."""

    def __init__(self, fill_color: str, half: int) -> None:
        super().__init__(fill_color)
        self._half = half

    def to_svg(self, width: Any, height: Any, x_scale: Any, y_scale: Any, series: Any,
               palette: Any) -> ET.Element:  # fmt: skip
        group = super().to_svg(width, height, x_scale, y_scale, series, palette)
        for rect in group.iter("rect"):
            half = float(rect.get("width", "0")) / 2
            rect.set("width", str(half))
            rect.set("x", str(float(rect.get("x", "0")) + half * self._half))
        return group


def monthly_chart(months: list[tuple[int, int, int, int]], currency: str, title: str) -> str:
    """Return columns of money received and paid out, for the months in which it moved.

    ``months`` are (year, month, contributed, paid out) in minor units, oldest first.
    """
    if not months:
        return _empty(title)
    labels = [format_month(year, month) for year, month, _i, _o in months]
    top = max(max(ins, outs) for _y, _m, ins, outs in months)
    chart = leather.Chart(title)
    chart.set_x_scale(leather.Ordinal(labels))
    chart.add_y_scale(0, _major(top, currency) if top > 0 else 1)
    chart.add_y_axis(tick_formatter=_amount_tick)
    received = [
        (label, _major(row[2], currency)) for label, row in zip(labels, months, strict=True)
    ]
    paid = [(label, _major(row[3], currency)) for label, row in zip(labels, months, strict=True)]
    chart.add_series(leather.Series(received, name=_("contributions")),
                     _HalfColumns(IN_COLOUR, 0))  # fmt: skip
    chart.add_series(leather.Series(paid, name=_("disbursements")), _HalfColumns(OUT_COLOUR, 1))
    return clean(chart.to_svg(width=WIDTH, height=HEIGHT))
