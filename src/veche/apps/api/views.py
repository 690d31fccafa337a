"""The account page (tokens and feeds), the private feeds, and the API's reference page.

- ``/account/``: lists the member's API tokens and feeds with the day each was last
  used; makes and revokes them with plain POST forms. A new secret is shown once, on
  the page that answers the POST, and never again.
- ``/feeds/<secret>/inbox.atom`` and ``/feeds/<secret>/decisions.atom``: Atom for any
  feed reader, over Tor, without a login. Content-free unless the feed was made "with
  titles" (then it opens its own read-only copy of the keys). A revoked feed is a 404.
- ``/api/``: the API's reference, rendered here from the OpenAPI document (no script).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from veche.apps.accounts.models import Member
from veche.apps.api import services
from veche.apps.api.endpoints import api, inbox_lines
from veche.apps.api.forms import NewFeedForm, NewTokenForm, RevokeForm
from veche.apps.api.models import AccessKey
from veche.apps.api.problems import problem_response
from veche.apps.core import keyring
from veche.apps.core.keyring import private_key_of
from veche.apps.core.permissions import member_required, public, token_required
from veche.apps.core.statements import ModelStatement
from veche.apps.proposals import presenters, selectors
from veche.apps.proposals.models import Awaiting

# --- the account page -------------------------------------------------------------------


def _account(
    request: HttpRequest,
    *,
    created: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = list(AccessKey.objects.filter(member=request.user))
    base = request.build_absolute_uri("/")[:-1]
    return render(
        request,
        "api/account.html",
        {
            "tokens": [r for r in rows if r.kind == AccessKey.Kind.TOKEN],
            "feeds": [r for r in rows if r.kind != AccessKey.Kind.TOKEN],
            "token_form": NewTokenForm(),
            "feed_form": NewFeedForm(),
            "created": created,
            "errors": errors or [],
            "base": base,
            "limit": services.MAX_PER_MEMBER,
        },
        status=status,
    )


def _feed_url(request: HttpRequest, row: AccessKey, secret: str) -> str:
    name = "api:feed_inbox" if row.kind == AccessKey.Kind.INBOX_FEED else "api:feed_decisions"
    return request.build_absolute_uri(reverse(name, args=[secret]))


@member_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """Return the member's tokens and feeds; make or revoke one (``action`` says which)."""
    if request.method == "GET":
        return _account(request)
    action = request.POST.get("action", "")
    try:
        if action == "token":
            form = NewTokenForm(request.POST)
            private_key = private_key_of(request)
            if not form.is_valid() or private_key is None:
                return _account(request, errors=[_("The token could not be made.")], status=400)
            row, secret = services.create_token(
                member=request.user, private_key=private_key,
                may_act=form.cleaned_data["may_act"],
            )  # fmt: skip
            return _account(request, created={"row": row, "secret": secret}, status=201)
        if action == "feed":
            feed = NewFeedForm(request.POST)
            if not feed.is_valid():
                return _account(request, errors=[_("Choose what the feed tells.")], status=400)
            titles = feed.cleaned_data["with_titles"]
            row, secret = services.create_feed(
                member=request.user, kind=feed.cleaned_data["kind"],
                keyring=keyring.current() if titles else None,
            )  # fmt: skip
            url = _feed_url(request, row, secret)
            return _account(request, created={"row": row, "url": url}, status=201)
    except services.TooMany:
        message = _("You have %(n)d tokens and feeds: revoke one first.") % {
            "n": services.MAX_PER_MEMBER
        }
        return _account(request, errors=[message], status=400)
    if action == "revoke":
        form = RevokeForm(request.POST)
        if form.is_valid() and services.revoke(
            member=request.user, key_id=form.cleaned_data["key"]
        ):
            return _account(request)
        return _account(request, errors=[_("There is no such token or feed.")], status=404)
    if action == "revoke_all":
        services.revoke_all(member=request.user)
        return _account(request)
    return _account(request, errors=[_("Choose what to do.")], status=400)


# --- private feeds ----------------------------------------------------------------------

ATOM = "application/atom+xml; charset=utf-8"


def _holder_or_404(secret: str, kind: str) -> services.Holder:
    holder = services.authenticate(secret, kinds=(kind,))
    if holder is None:
        raise Http404
    return holder


def _atom(
    request: HttpRequest,
    *,
    feed_id: str,
    title: str,
    updated: dt.datetime,
    link: str,
    entries: list[dict[str, Any]],
) -> HttpResponse:
    def abs_url(path: str) -> str:
        return escape(request.build_absolute_uri(path), {'"': "&quot;"})

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>urn:veche:feed:{escape(feed_id)}</id>",
        f"<title>{escape(title)}</title>",
        f"<updated>{updated.isoformat()}</updated>",
        f'<link rel="alternate" href="{abs_url(link)}"/>',
        "<author><name>veche</name></author>",
    ]
    for entry in entries:
        parts += [
            "<entry>",
            f"<id>urn:veche:{escape(entry['id'])}</id>",
            f"<title>{escape(entry['title'])}</title>",
            f"<updated>{entry['updated'].isoformat()}</updated>",
            f'<link rel="alternate" href="{abs_url(entry["link"])}"/>',
            f"<summary>{escape(entry.get('summary', ''))}</summary>",
            "</entry>",
        ]
    parts.append("</feed>")
    response = HttpResponse("\n".join(parts), content_type=ATOM)
    response["X-Robots-Tag"] = "noindex"
    return response


# Placeholders: no member has this id, and no proposal has this number.
_ME = -1_000_000_007
_ME_NUMBER = 1_000_000_007


def _active_at(row: Any) -> dt.datetime:
    return row.last_activity_at or row.created_at


@functools.cache
def _feed_waits() -> ModelStatement:
    """The feed's 50 newest waits, compiled once (statements.py); an entry's id and time
    also read when its proposal was last active."""
    member = Member(pk=_ME)
    waits = inbox_lines(member, "last_activity_at", "created_at")[:50]
    return ModelStatement(waits, (_ME,))


def _detail_link() -> Callable[[int], str]:
    """Return what gives a proposal's page address, as ``reverse`` would: reversed once
    per feed, not once per entry."""
    before, after = reverse("proposals:detail", args=[_ME_NUMBER]).split(str(_ME_NUMBER))
    return lambda pk: f"{before}{pk}{after}"


@token_required
@require_GET
def feed_inbox(request: HttpRequest, secret: str) -> HttpResponse:
    """Return the member's inbox as Atom: how many things wait (and, with titles, which)."""
    holder = _holder_or_404(secret, AccessKey.Kind.INBOX_FEED)
    member = holder.member
    now = timezone.now()
    with keyring.using(holder.keyring):
        waits = _feed_waits().objects(member.pk)
        items = presenters.inbox_items(waits, now)
        count = Awaiting.objects.filter(member=member).values("proposal").distinct().count()
        newest = max((_active_at(w.proposal) for w in waits), default=holder.key.created_at)
        summary = ngettext("%(n)d thing waits for you.", "%(n)d things wait for you.", count) % {
            "n": count
        }
        if holder.key.with_titles:
            link = _detail_link()
            entries = [
                {
                    "id": f"proposal:{i['row'].pk}:{_active_at(i['row']).timestamp():.0f}",
                    "title": i["title"],
                    "updated": _active_at(i["row"]),
                    "link": link(i["row"].pk),
                    "summary": "; ".join(str(r) for r in i["reasons"]),
                }
                for i in items
            ]
        else:
            # Content-free: one entry, renewed whenever what waits changes.
            entries = [
                {
                    "id": f"inbox:{holder.key.pk}:{count}:{newest.timestamp():.0f}",
                    "title": summary,
                    "updated": newest,
                    "link": reverse("proposals:inbox"),
                    "summary": summary,
                }
            ]
    return _atom(
        request, feed_id=f"inbox:{holder.key.pk}", title=_("What waits for you"),
        updated=newest, link=reverse("proposals:inbox"), entries=entries,
    )  # fmt: skip


@token_required
@require_GET
def feed_decisions(request: HttpRequest, secret: str) -> HttpResponse:
    """Return the newest decisions of the member's bodies as Atom (titles only if allowed)."""
    holder = _holder_or_404(secret, AccessKey.Kind.DECISIONS_FEED)
    with keyring.using(holder.keyring):
        records = list(selectors.visible_decisions(member=holder.member)[:30])
        rows = presenters.decision_rows(records)
        entries = []
        for row in rows:
            named = holder.key.with_titles and row.title
            where = _("the federation") if row.federation else _("your group")
            title = (
                str(row.title)
                if named
                else _("A decision of %(where)s (#%(seq)d)") % {"where": where, "seq": row.seq}
            )
            link = (
                reverse("proposals:detail", args=[row.proposal])
                if row.proposal
                else reverse("proposals:decisions")
            )
            entries.append(
                {
                    "id": f"decision:{row.chain}:{row.seq}",
                    "title": title,
                    # A record whose date was changed unreadable: when the feed began.
                    "updated": row.at or holder.key.created_at,
                    "link": link,
                    "summary": str(row.outcome or ""),
                }
            )
    updated = max((e["updated"] for e in entries), default=holder.key.created_at)
    return _atom(
        request, feed_id=f"decisions:{holder.key.pk}", title=_("New decisions"),
        updated=updated, link=reverse("proposals:decisions"), entries=entries,
    )  # fmt: skip


# --- the API's reference ----------------------------------------------------------------


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            body = (op.get("requestBody", {}).get("content", {}).get("application/json", {})).get(
                "schema"
            )
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "parameters": [
                        {"name": p["name"], "in": p["in"], "required": p.get("required", False)}
                        for p in op.get("parameters", [])
                    ],
                    "body": _schema_name(body),
                    "responses": sorted(
                        (str(code), r.get("description", ""), _response_name(r))
                        for code, r in op.get("responses", {}).items()
                    ),
                }
            )
    return out


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else str(schema.get("type", ""))


def _response_name(response: dict[str, Any]) -> str:
    for media, content in response.get("content", {}).items():
        return f"{media} {_schema_name(content.get('schema'))}".strip()
    return ""


def _components(schema: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, comp in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(comp.get("required", []))
        fields = []
        for field, spec in comp.get("properties", {}).items():
            kind = _schema_name(spec) or " | ".join(
                _schema_name(s) for s in spec.get("anyOf", []) if s
            )
            if spec.get("type") == "array":
                kind = f"array of {_schema_name(spec.get('items'))}"
            if "enum" in spec:
                kind += " (" + ", ".join(str(v) for v in spec["enum"]) + ")"
            fields.append({"name": field, "type": kind, "required": field in required})
        out.append({"name": name, "description": comp.get("description", ""), "fields": fields})
    return out


@public
@csrf_exempt  # it changes nothing, and answers API clients, who send no CSRF token
def api_not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Return a 404 as problem details for any other address under ``/api/``."""
    return problem_response(404, _("There is no such thing here."))


@public
@require_GET
def reference(request: HttpRequest) -> HttpResponse:
    """Return the API's reference, rendered from its OpenAPI document (no script)."""
    schema = api.get_openapi_schema()
    return render(
        request,
        "api/reference.html",
        {
            "info": schema.get("info", {}),
            "openapi": schema.get("openapi", ""),
            "operations": _operations(schema),
            "components": _components(schema),
        },
    )
