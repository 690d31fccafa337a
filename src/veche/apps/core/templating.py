"""The Jinja2 environment every page is rendered with (decision 0081).

Django's template engine was half of a list page's time; Jinja2 compiles a template to
Python once and renders the same page about five times faster. The templates keep the
rules they were written under in Django's language, so that moving them changed no page:

- **Lookups work as Django's do.** ``a.b`` reads a dict's key before an attribute, calls
  a callable it finds (a form's ``non_field_errors``, a request's ``get_full_path``), never
  calls one marked ``alters_data``, and yields an empty value where nothing is found.
- **Values print as Django prints them**: numbers and dates in the member's locale.
- **Translations.** ``_("…")`` is ``{% translate %}``: the translation is the template's
  own text (trusted, not escaped), and ``%`` in it is literal.
  ``{% trans name=value %}…{% endtrans %}`` is ``{% blocktranslate %}``: its text is
  markup, its values are escaped, and its msgid is the one Django wrote (``%(name)s``),
  so the catalogues did not change.
  ``pgettext("context", "…")`` is ``{% translate "…" context "…" %}``. ``makemessages``
  reads all three (``veche.apps.core.management.commands.makemessages``).
- **URLs** come from ``url_for(name, *args)``, cached per name and arguments: a list page
  links every row, and Django's ``reverse`` is dear.
- **One language per render.** A page asks for the active language a few hundred times
  (each translation, each date); Django's ``get_language`` reads a thread-and-task local,
  which cost a tenth of a list page. A render reads it once (:class:`Template`).
- **Lazy labels translate once.** A page's lines share a few lazy labels (phases, steps);
  each is translated once per language and process (:func:`_finalize`).
- **A blank form that is the same for everyone renders once** per language and process
  (:func:`form_fields`): it holds nobody's data, and Django's widgets were a tenth of a
  proposal's page.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from contextvars import ContextVar
from typing import Any

import jinja2
from django.conf import settings
from django.core.signals import setting_changed
from django.template.defaultfilters import (
    add,
    linebreaks_filter,
    stringformat,
    striptags,
    truncatechars,
    urlencode,
)
from django.templatetags.i18n import language_name_local
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy, pgettext_lazy
from markupsafe import Markup

from veche.apps.core.l10n import format_date, format_moment

_LOCALIZED = (decimal.Decimal, float, dt.date, dt.time)

# The language and time zone of the render under way (Template.render), or None outside one.
_rendering: ContextVar[tuple[str | None, dt.tzinfo] | None] = ContextVar(
    "veche_rendering", default=None
)


def _language() -> str | None:
    current = _rendering.get()
    return translation.get_language() if current is None else current[0]


def _zone() -> dt.tzinfo:
    current = _rendering.get()
    return timezone.get_current_timezone() if current is None else current[1]


class _Once:
    """A lazy value printed once per render and then as it was printed (the CSRF field:
    each evaluation masks the token afresh, a few dozen microseconds, and a page holds
    several forms). It lives as long as the render's context, so never past the request."""

    __slots__ = ("_lazy", "_text")

    def __init__(self, lazy: Promise) -> None:
        self._lazy: Promise | None = lazy
        self._text = ""

    def __html__(self) -> str:
        if self._lazy is not None:
            self._text, self._lazy = str(self._lazy), None
        return self._text

    __str__ = __html__


class Template(jinja2.Template):
    """A template that reads the active language and time zone once per render."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        context = args[0] if args and type(args[0]) is dict else None
        if context is not None and isinstance(context.get("csrf_input"), Promise):
            context["csrf_input"] = _Once(context["csrf_input"])
        token = _rendering.set((translation.get_language(), timezone.get_current_timezone()))
        try:
            return super().render(*args, **kwargs)
        finally:
            _rendering.reset(token)


def when(value: dt.datetime | None) -> SafeString | str:
    """Return ``<time datetime="…">Jan 7, 2030, 09:05 UTC</time>`` in the member's language."""
    if not isinstance(value, dt.datetime):
        return ""
    return _moment(value, _language(), _zone())


@functools.lru_cache(maxsize=8192)
def _moment(value: dt.datetime, language: str | None, zone: dt.tzinfo) -> SafeString:
    # Keyed by language and zone, which are what format_moment reads besides the value:
    # the same deadlines show on every page view, and Babel's formatting is dear.
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), format_moment(value, language)
    )


def day(value: dt.date | None) -> SafeString | str:
    """Return ``<time datetime="2030-01-07">Jan 7, 2030</time>`` in the member's language."""
    if not isinstance(value, dt.date):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_date(value))


def default_if_none(value: Any, default: Any) -> Any:
    return default if value is None else value


@functools.lru_cache(maxsize=8192)
def _reverse(prefix: str, name: str, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> str:
    # The prefix is part of the key: the same name reverses differently under another
    # SCRIPT_NAME.
    return reverse(name, args=args or None, kwargs=dict(kwargs) or None)


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """Return ``reverse(name, args)``: what ``{% url %}`` did, memoised."""
    try:
        return _reverse(get_script_prefix(), name, args, tuple(sorted(kwargs.items())))
    except TypeError:  # an unhashable argument: reverse it afresh
        return reverse(name, args=args or None, kwargs=kwargs or None)


def _template_text(translated: str) -> Markup:
    """Return a translation as markup: it is the template's own text in another language,
    shipped with the code and reviewed like it (as Django treats a template's literals).
    Values a member typed never pass here; ``%`` formatting escapes them."""
    return Markup(translated)  # noqa: S704 - our catalogues, not input


# A template's msgids are its own literals, so this holds at most every msgid in every
# language: a page looks each up once per language and process, instead of walking the
# catalogues of every app (a list page asks ~230 times). Emptied when the languages or
# the catalogues' places change (tests do).
_translated: dict[tuple[str | None, str], Markup] = {}


# Lazy labels (module-level constants, mostly) as printed, by language and the label's
# id, each with the label itself: a label kept here keeps its id from being reused.
# Bounded, as a label made on the fly (rare) lands here too.
_labels: dict[tuple[str | None, int], tuple[Promise, str]] = {}
_LABELS_HELD = 4096
# Only translated labels are kept (gettext_lazy's and pgettext_lazy's): other lazy
# values are printed afresh each time. The CSRF field is one, made for each request and
# holding it: kept here, it would keep up to _LABELS_HELD past requests alive in the
# worker, their key cookies and sessions with them.
# (Their classes are taken from calls that makemessages does not read as msgids.)
_LABEL_TYPES = tuple(
    type(make(*args)) for make, args in ((gettext_lazy, ("",)), (pgettext_lazy, ("", "")))
)


def _forget_translations(*, setting: str, **kwargs: Any) -> None:
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _translated.clear()
        _labels.clear()
        _blank_forms.clear()


setting_changed.connect(_forget_translations)


def _translated_text(message: str) -> Markup:
    key = (_language(), message)
    found = _translated.get(key)
    if found is None:
        found = _translated[key] = _template_text(translation.gettext(message))
    return found


def _translate(message: str) -> Markup:
    """``{% translate %}``: the translation as template text, with ``%`` literal."""
    return _translated_text(message)


def _translate_in_context(context: str, message: str) -> Markup:
    return _template_text(translation.pgettext(context, message))


def _block(message: str, **values: Any) -> Markup:
    """``{% trans %}``: template text whose values are escaped into it."""
    return _translated_text(message) % values


def _block_plural(singular: str, plural: str, count: int, **values: Any) -> Markup:
    return _template_text(translation.ngettext(singular, plural, count)) % values


def _block_plural_in_context(
    context: str, singular: str, plural: str, count: int, **values: Any
) -> Markup:
    return _template_text(translation.npgettext(context, singular, plural, count)) % values


def _finalize(value: Any) -> Any:
    """Print numbers and dates in the member's locale, as Django's templates did, and a
    lazy label as its translation, looked up once per language."""
    if isinstance(value, str) or type(value) is int:  # most values: printed as they are
        return value
    if type(value) in _LABEL_TYPES:
        key = (_language(), id(value))
        found = _labels.get(key)
        if found is None or found[0] is not value:
            if len(_labels) >= _LABELS_HELD:
                _labels.clear()
            found = _labels[key] = (value, str(value))
        return found[1]
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, _LOCALIZED):
        return localize(value)
    return value


# Blank forms rendered, by (form class, language, prefix, auto_id): a few per process.
_blank_forms: dict[tuple[type, str | None, str | None, Any], Markup] = {}
FORM_TEMPLATE = "includes/form.html"


def renders_alike(form: Any) -> bool:
    """Whether ``form`` renders the same for everyone: a blank form (unbound, no initial
    values) of a class whose fields, choices and labels are fixed (``renders_alike``)."""
    return bool(
        getattr(type(form), "renders_alike", False) and not form.is_bound and not form.initial
    )


# One blank instance per form class that renders alike, shown by every view that offers
# the form: building one deep-copies its fields (a tenth of a millisecond a form), only
# to be rendered by form_fields, which then renders it from its cache anyway.
_blank_instances: dict[type, Any] = {}


def blank(form_class: type) -> Any:
    """Return the process's blank instance of ``form_class``, a form that renders alike.

    Never bound and never given initial values, it is read only: a page that shows what
    a member typed builds a form of its own.
    """
    if not getattr(form_class, "renders_alike", False):
        raise TypeError(f"{form_class.__name__} does not render alike")
    found = _blank_instances.get(form_class)
    if found is None:
        found = _blank_instances[form_class] = form_class()
    return found


@jinja2.pass_environment
def form_fields(env: jinja2.Environment, form: Any) -> Markup:
    """Return ``includes/form.html`` rendered for ``form``, kept when it renders alike."""
    if not renders_alike(form):
        return Markup(env.get_template(FORM_TEMPLATE).render(form=form))  # noqa: S704 - a template's output
    key = (type(form), _language(), form.prefix, form.auto_id)
    found = _blank_forms.get(key)
    if found is None:
        html = env.get_template(FORM_TEMPLATE).render(form=form)
        found = _blank_forms[key] = Markup(html)  # noqa: S704 - a template's output
    return found


class Environment(jinja2.Environment):
    """Jinja2 with Django's lookup rule (see the module docstring)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Every ``a.b`` of every page comes here: a value that cannot be called (nearly
        # all) is returned without a further call.
        if type(obj) is dict:
            try:
                value = obj[attribute]
            except KeyError:
                pass
            else:
                return self._called(value, obj, attribute) if callable(value) else value
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                value = obj[attribute]
            except (TypeError, LookupError, AttributeError):
                return self.undefined(obj=obj, name=attribute)
        return self._called(value, obj, attribute) if callable(value) else value

    def _called(self, value: Any, obj: Any, attribute: str) -> Any:
        if not callable(value) or isinstance(value, type | jinja2.Undefined):
            return value
        if getattr(value, "do_not_call_in_templates", False):
            return value
        if getattr(value, "alters_data", False):
            return self.undefined(obj=obj, name=attribute)
        try:
            return value()
        except TypeError:  # it needs arguments: Django shows nothing
            return self.undefined(obj=obj, name=attribute)


def environment(**options: Any) -> Environment:
    options.setdefault("keep_trailing_newline", True)
    # A missing name, or anything read from one, prints nothing, as in Django's templates.
    options["undefined"] = jinja2.ChainableUndefined
    env = Environment(extensions=["jinja2.ext.i18n"], finalize=_finalize, **options)
    env.template_class = Template
    env.globals.update(
        url_for=url,
        static=static,
        form_fields=form_fields,
        get_current_language=translation.get_language,
        available_languages=settings.LANGUAGES,
        _=_translate,
        pgettext=_translate_in_context,
        # What {% trans %} calls (the i18n extension's "newstyle" calls).
        gettext=_block,
        ngettext=_block_plural,
        npgettext=_block_plural_in_context,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.filters.update(
        when=when,
        day=day,
        default_if_none=default_if_none,
        add=add,
        linebreaks=lambda value: linebreaks_filter(value, autoescape=True),
        stringformat=stringformat,
        striptags=striptags,
        truncatechars=truncatechars,
        urlencode=urlencode,
        language_name_local=language_name_local,
    )
    return env
