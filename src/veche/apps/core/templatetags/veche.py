"""Template filters every page shares: ``{% load veche %}``."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from veche.apps.core.l10n import format_date, format_moment

register = template.Library()


@register.filter
def when(value: dt.datetime | None) -> SafeString | str:
    """Return ``<time datetime="…">Jan 7, 2030, 09:05 UTC</time>`` in the member's language."""
    if not isinstance(value, dt.datetime):
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_moment(value))


@register.filter
def day(value: dt.date | None) -> SafeString | str:
    """Return ``<time datetime="2030-01-07">Jan 7, 2030</time>`` in the member's language."""
    if not isinstance(value, dt.date):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_date(value))
