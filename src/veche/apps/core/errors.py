"""Show a domain error to a member in their language.

The core raises :class:`~veche.domain.errors.DomainError` with a fixed English template
and its params (it cannot import Django); this looks the template up in the active
language's catalogue and fills the params in. A param that is itself a domain error (a
ballot's problem inside "ballot 3: ...") or a :class:`~veche.domain.errors.Phrase` is
translated too; any other param (a key, a number, a name) is shown as it is.
"""

from __future__ import annotations

from django.utils.translation import gettext

from veche.domain.errors import DomainError, Phrase


def _param(value: object) -> object:
    if isinstance(value, DomainError):
        return translated(value)
    if isinstance(value, Phrase):
        return gettext(str(value))
    return value


def translated(error: DomainError) -> str:
    """Return ``error``'s sentence in the active language (English if the catalogue fails)."""
    template = gettext(error.template)
    if not error.params:
        return template
    try:
        return template % {name: _param(value) for name, value in error.params.items()}
    except (KeyError, TypeError, ValueError):
        # A translation that names an unknown param or the wrong type: say it in English.
        return error.message
