"""The Jinja2 environment keeps the rules the templates were written under (decision 0081).

Each test renders a small template through the configured engine, as a page does, and
checks one rule a template relied on under Django's engine.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from veche.apps.core.management.commands.makemessages import jinja2_as_python


def render(source: str, **context: Any) -> str:
    return str(engines["jinja2"].from_string(source).render(context))


class Thing:
    label = "a label"

    def method(self) -> str:
        return "called"

    def needs_argument(self, x: int) -> str:
        return "never"

    def delete(self) -> str:
        raise AssertionError("a template must never call what alters data")

    delete.alters_data = True  # type: ignore[attr-defined]


def test_a_callable_attribute_is_called_as_django_did() -> None:
    assert render("{{ t.method }}|{{ t.label }}", t=Thing()) == "called|a label"


def test_what_alters_data_or_needs_arguments_is_never_called() -> None:
    assert render("[{{ t.delete }}][{{ t.needs_argument }}]", t=Thing()) == "[][]"


def test_a_dict_key_comes_before_the_dicts_own_attribute() -> None:
    assert render("{{ d.items }}", d={"items": "the key"}) == "the key"
    assert render("{% for k, v in d.items %}{{ k }}={{ v }}{% endfor %}", d={"a": 1}) == "a=1"


def test_a_missing_name_prints_nothing() -> None:
    assert render("[{{ nothing.here }}][{{ t.absent }}]", t=Thing()) == "[][]"


def test_values_are_escaped() -> None:
    assert render("{{ v }}", v="<b>&") == "&lt;b&gt;&amp;"


def test_numbers_and_dates_print_in_the_members_locale() -> None:
    with translation.override("ru"):
        assert render("{{ n }}", n=decimal.Decimal("12.5")) == "12,5"
    with translation.override("en"):
        assert render("{{ n }}", n=decimal.Decimal("12.5")) == "12.5"


def test_translate_prints_template_text_with_a_literal_percent() -> None:
    with translation.override("en"):
        assert render('{{ _("100% <b>sure</b>") }}') == "100% <b>sure</b>"


def test_a_trans_block_escapes_its_values_and_keeps_its_markup() -> None:
    out = render("{% trans name=n %}<em>Hello</em> {{ name }}{% endtrans %}", n="<script>")
    assert out == "<em>Hello</em> &lt;script&gt;"


def test_a_trans_block_is_translated_with_the_msgid_blocktranslate_wrote() -> None:
    # A msgid the catalogues hold since the templates were Django's.
    with translation.override("ru"):
        out = render(
            "{% trans responded=a, eligible=b %}{{ responded }} of {{ eligible }} responded"
            "{% endtrans %}",
            a=3,
            b=7,
        )
    assert "3" in out and "7" in out and "responded" not in out


def test_plurals_follow_the_count() -> None:
    source = "{% trans n=k %}{{ n }} member{% pluralize n %}{{ n }} members{% endtrans %}"
    with translation.override("en"):
        assert render(source, k=1) == "1 member"
        assert render(source, k=5) == "5 members"


@pytest.mark.parametrize("when", [dt.datetime(2030, 1, 7, 9, 5, tzinfo=dt.UTC)])
def test_when_writes_a_time_element_in_the_active_language(when: dt.datetime) -> None:
    with translation.override("en"):
        en = render("{{ m|when }}", m=when)
    with translation.override("ru"):
        ru = render("{{ m|when }}", m=when)
    assert en == '<time datetime="2030-01-07T09:05:00+00:00">Jan 7, 2030, 09:05 UTC</time>'
    assert ru.startswith('<time datetime="2030-01-07T09:05:00+00:00">7 янв. 2030')


def test_a_lazy_label_prints_in_each_renders_own_language() -> None:
    from django.utils.translation import gettext_lazy

    from veche.apps.proposals.presenters import PHASE_LABELS
    from veche.domain.proposals import Phase

    label = PHASE_LABELS[Phase.CONSENSUS]
    for _ in range(2):  # the second time, from what the first one kept
        with translation.override("ru"):
            ru = render("{{ p }}", p=label)
        with translation.override("en"):
            en = render("{{ p }}", p=label)
        assert en == "Seeking consensus"
        assert ru == translation.trans_real.translation("ru").gettext("Seeking consensus") != en
    # A label made on the fly, then dropped: another one, perhaps at its address, prints
    # its own text, never the one kept for the first.
    for text in ("Draft", "Urgent vote", "<b>"):
        with translation.override("en"):
            assert render("{{ p }}", p=gettext_lazy(text)) == text.replace("<b>", "&lt;b&gt;")


def test_a_render_reads_the_language_once_and_the_next_render_reads_it_anew() -> None:
    template = engines["jinja2"].from_string('{{ _("Inbox") }}|{{ m|when }}')
    moment = dt.datetime(2030, 1, 7, 9, 5, tzinfo=dt.UTC)
    with translation.override("en"):
        en = template.render({"m": moment})
    with translation.override("ru"):
        ru = template.render({"m": moment})
    assert en.startswith("Inbox|") and "Jan 7, 2030" in en
    assert not ru.startswith("Inbox|") and "янв." in ru


def test_url_is_reverse() -> None:
    assert render("{{ url_for('proposals:detail', 12) }}") == reverse("proposals:detail", args=[12])
    assert render("{{ url_for('proposals:list') }}") == reverse("proposals:list")


def test_makemessages_reads_every_form_of_translation_on_its_own_line() -> None:
    source = (
        '<p>{{ _("One") }}</p>\n'
        '{{ pgettext("a context", "Two") }}\n'
        "{% trans n=k %}{{ n }} thing{% pluralize n %}{{ n }} things{% endtrans %}\n"
        "{% trans who=w %}Hello {{ who }}{% endtrans %}"
    )
    lines = jinja2_as_python(source).split("\n")
    assert lines[0] == "gettext('One'); "
    assert lines[1] == "pgettext('a context', 'Two'); "
    assert lines[2] == "ngettext('%(n)s thing', '%(n)s things', 0); "
    assert lines[3] == "gettext('Hello %(who)s'); "


def test_a_blank_form_that_renders_alike_is_the_include_and_follows_the_language() -> None:
    """form_fields(form) is what including includes/form.html gives, in the render's own
    language, whether or not a rendering was kept; a form with anyone's data is never kept."""
    from veche.apps.core import templating
    from veche.apps.proposals.forms import CommentForm, MeetingForm

    def include(form: Any) -> str:
        return render('{% include "includes/form.html" %}', form=form)

    templating._blank_forms.clear()
    for language in ("en", "ru", "uk", "en"):
        with translation.override(language):
            for form in (MeetingForm(), CommentForm()):
                assert templating.renders_alike(form)
                assert render("{{ form_fields(f) }}", f=form) == include(form)
    assert len(templating._blank_forms) == 6  # two forms in three languages
    with translation.override("ru"):
        assert "Сообщение" in render("{{ form_fields(f) }}", f=CommentForm())

    typed = CommentForm(initial={"body": "what a member typed"})
    refused = CommentForm({"body": ""})
    assert refused.errors
    for form in (typed, refused):
        assert not templating.renders_alike(form)
        assert render("{{ form_fields(f) }}", f=form) == include(form)
    assert "what a member typed" in render("{{ form_fields(f) }}", f=typed)
    assert "what a member typed" not in render("{{ form_fields(f) }}", f=CommentForm())
    assert len(templating._blank_forms) == 6


def test_a_blank_form_that_renders_alike_is_one_unbound_instance_per_process() -> None:
    from django import forms as django_forms

    from veche.apps.core.templating import blank
    from veche.apps.proposals.forms import CommentForm

    form = blank(CommentForm)
    assert form is blank(CommentForm)
    assert not form.is_bound and not form.initial

    class Personal(django_forms.Form):  # its choices could differ for each member
        name = django_forms.CharField()

    with pytest.raises(TypeError):
        blank(Personal)


def test_a_page_keeps_nothing_of_its_request_once_served(member_a: Any, client_for: Any) -> None:
    """Nothing a page printed keeps its request alive: a request holds the member's key
    cookie and session, which must not outlive it in a worker's memory. (The CSRF field
    is a lazy value, as a translated label is; only translated labels are kept.)"""
    import gc
    import weakref

    from django.utils.functional import Promise

    from veche.apps.core import templating

    client = client_for(member_a)
    for path in ("/proposals/", "/inbox/", "/account/"):
        client.get(path)
        response = client.get(path)
        assert response.status_code == 200
        request = weakref.ref(response.wsgi_request)
        del response
        gc.collect()
        assert request() is None, path
    kept = [value for value, _text in templating._labels.values()]
    assert kept and all(isinstance(value, Promise) for value in kept)
    assert all(type(value) in templating._LABEL_TYPES for value in kept)


def test_a_page_masks_its_csrf_token_once_and_each_page_afresh(
    member_a: Any, client_for: Any
) -> None:
    """Every form of a page carries the same masked token (masked once for the page),
    each page a token masked afresh, and each posts."""
    import re

    client = client_for(member_a)
    client.get("/proposals/")
    tokens = []
    for _ in range(2):
        page = client.get("/proposals/").content.decode()
        found = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        assert len(found) == 1 and page.count("csrfmiddlewaretoken") >= 2
        tokens.append(found.pop())
    assert tokens[0] != tokens[1]
