"""The JSON API (django-ninja, OpenAPI 3.1 at ``/api/openapi.json``): what the pages do.

Each endpoint authenticates a token (``Authorization: Bearer <secret>``), never a
session: cookies are ignored, so no cross-site request can act with a member's browser
(decision 0121). Then it goes through the same selectors, presenters, forms and
services as the page it mirrors, with the same permission checks: a proposal of another
group is a 404, a rule the domain refuses is a 400 whose message the pages would show.
Errors are problem details (``problems.py``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from veche.apps.api import services
from veche.apps.api.models import AccessKey
from veche.apps.api.output import answer
from veche.apps.api.problems import PROBLEM_TYPE, Problem, form_errors, problem_response
from veche.apps.api.schemas import (
    AmendIn,
    ContributeIn,
    DecisionsOut,
    Done,
    FundOut,
    InboxOut,
    MembersOut,
    ProblemOut,
    ProposalDetail,
    ProposalList,
    RequestIn,
    RespondIn,
    VoteIn,
)
from veche.apps.core import keyring
from veche.apps.core.busy import is_busy
from veche.apps.core.errors import translated
from veche.apps.core.pagination import paginate
from veche.apps.federation.selectors import group_coordinators, group_members, is_coordinator
from veche.apps.fund import forms as fund_forms
from veche.apps.fund import selectors as fund_selectors
from veche.apps.fund import services as fund_services
from veche.apps.proposals import forms, presenters, selectors, signals
from veche.apps.proposals import services as proposal_services
from veche.apps.proposals.models import Proposal, chain_name
from veche.domain.decisions_log import records_to_jsonl
from veche.domain.errors import DomainError

# --- authentication -------------------------------------------------------------------


class UnknownToken(Exception):
    """A token was presented that names no usable token (unknown, revoked, member gone)."""


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; the token's member and keys serve the request."""

    def authenticate(self, request: HttpRequest, token: str) -> services.Holder:
        holder = services.authenticate(token.strip(), kinds=(AccessKey.Kind.TOKEN,))
        if holder is None:
            raise UnknownToken
        # The session (if a browser sent one) is not this request's: the token's member
        # and keys are, for the rest of the request (the keyring middleware restores).
        request.user = holder.member
        keyring.adopt(holder.keyring)
        return holder


def _holder(request: HttpRequest) -> services.Holder:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _member(request: HttpRequest) -> Any:
    return _holder(request).member


def _own_group(request: HttpRequest) -> Any:
    """Return the member's group: loaded with the token, which is refused once it is
    dissolved or the member has left (services.authenticate)."""
    member = _member(request)
    group = member.group if member.group_id is not None else None
    return group if group is not None and group.dissolved_at is None else None


def _may_act(request: HttpRequest) -> None:
    if not _holder(request).may_act:
        raise Problem(403, _("This token may only read: make one that may act."))


# --- input and errors -------------------------------------------------------------------


class StrictJson(Parser):
    """JSON bodies, refusing text that cannot be stored (lone surrogates)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        _check_text(data)
        return data


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Problem(422, _("The text is not valid Unicode.")) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class VecheApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document says errors are ``application/problem+json``."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if str(status).startswith(("4", "5")) and content:
                        response["content"] = {PROBLEM_TYPE: next(iter(content.values()))}
        return schema


api = VecheApi(
    title="veche",
    version="1",
    description=(
        "The members' API: what waits for you, proposals, the decision log, the common fund "
        "and your group's members. Authenticate with a token made on your account page: "
        "`Authorization: Bearer <token>`. Errors are RFC 9457 problem details, in the "
        "language `Accept-Language` asks for."
    ),
    # Included under the api app's own namespace (veche.apps.api.urls).
    urls_namespace="api:api",
    docs_url=None,
    auth=TokenAuth(),
    parser=StrictJson(),
)

ERRORS: dict[int, Any] = {401: ProblemOut, 404: ProblemOut, 422: ProblemOut}
ACTS: dict[int, Any] = {**ERRORS, 400: ProblemOut, 403: ProblemOut, 503: ProblemOut}


@api.exception_handler(Problem)
def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return problem_response(exc.status, exc.detail, title=exc.title, errors=exc.errors)


@api.exception_handler(UnknownToken)
def _unknown_token(request: HttpRequest, exc: UnknownToken) -> HttpResponse:
    return problem_response(404, _("No such token: it was revoked, or never existed."))


@api.exception_handler(AuthenticationError)
def _no_token(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        401,
        _("Send a token: Authorization: Bearer <token>. Make one on your account page."),
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in error.get("loc", ())[1:]) or None,
            "message": str(error.get("msg", "")),
        }
        for error in exc.errors
    ]
    return problem_response(422, _("The request does not fit the schema."), errors=errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(404, _("There is no such thing here."))


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(403, _("You may not do this."))


@api.exception_handler(DomainError)
def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    errors = [{"field": exc.field, "message": translated(exc)}] if exc.field else None
    return problem_response(400, translated(exc), errors=errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # django-ninja's one 400: a body that does not parse (not JSON, or text that
        # cannot be stored). A 422 like any other shape error: 400 means the rules refused.
        return problem_response(422, _("The body is not JSON text that can be stored."))
    return problem_response(exc.status_code, str(exc))


@api.exception_handler(Exception)
def _busy_or_raise(request: HttpRequest, exc: Exception) -> HttpResponse:
    if is_busy(exc):
        return problem_response(
            503, _("The database is busy: nothing was saved. Try again in a moment."),
            headers={"Retry-After": "5"},
        )  # fmt: skip
    raise exc


def _page_out(page: Any) -> dict[str, Any]:
    return {"number": page.number, "has_next": page.has_next}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class _Texts:
    """``_text`` for one answer, translating each lazy label once: a list's lines share
    a few labels (phases, steps), and each translation is a lookup in the catalogue."""

    def __init__(self) -> None:
        # By id, with the value itself, which keeps its id from being reused meanwhile.
        self._seen: dict[int, tuple[Any, str]] = {}

    def __call__(self, value: Any) -> str:
        if value is None:
            return ""
        if type(value) is str:
            return value
        seen = self._seen.get(id(value))
        if seen is None or seen[0] is not value:
            seen = self._seen[id(value)] = (value, str(value))
        return seen[1]


# --- what waits -------------------------------------------------------------------------

inbox_router = Router(tags=["inbox"])

# The lists load only the columns their lines show: a page holds up to 100 proposals,
# whose other columns (dates, JSON, the group) would cost most of the read.
# test_api_queries checks that no line loads a column left out here, row by row.
VERSION_TITLE = (
    "current_version__proposal",
    "current_version__number",
    "current_version__title_ct",
)
# What an item of the inbox reads of its proposal (presenters.inbox_items).
INBOX_PROPOSAL = ("id", "kind_key", "phase", "due_at", "current_version")


def inbox_lines(member: Any, *also: str) -> Any:
    """Return ``selectors.inbox``, reading of each proposal only what an item shows (and
    the proposal's fields ``also``)."""
    return selectors.inbox(member=member).only(
        "proposal", "member", "wait", "reminded_at",
        *(f"proposal__{name}" for name in (*INBOX_PROPOSAL, *VERSION_TITLE, *also)),
    )  # fmt: skip


@inbox_router.get("/inbox", response={200: InboxOut, **ERRORS}, summary="What waits for you")
def inbox(request: HttpRequest, page: int = Query(1, ge=1, le=10_000)) -> HttpResponse:
    """Return what waits for the member, as the inbox page shows it."""
    member = _member(request)
    text = _Texts()
    now = timezone.now()
    rows = paginate(request, selectors.inbox_rows(member, inbox_lines), per_page=100)
    items = [
        {
            "proposal": item["row"].pk,
            "title": item["title"],
            "phase": text(item["phase"]),
            "reasons": [text(r) for r in item["reasons"]],
            "deadline": item["deadline"],
            "soon": item["soon"],
            "to_fund": item["to_fund"],
            "reminded_at": item["reminded_at"],
        }
        for item in presenters.inbox_items(rows.object_list, now)
    ]
    sent = signals.inbox_wanted.send(sender=None, member=member)
    other = [
        {"title": text(i["title"]), "url": i["url"], "reasons": [text(r) for r in i["reasons"]],
         "at": i.get("at")}
        for _receiver, found in sent for i in found
    ]  # fmt: skip
    return answer(InboxOut, {"items": items, "other": other, "page": _page_out(rows)})


# --- proposals --------------------------------------------------------------------------

proposals_router = Router(tags=["proposals"])


def _visible(request: HttpRequest, proposal_id: int) -> Proposal:
    member = _member(request)
    if member.group_id is None:  # never, for a token's member (it has no such query)
        raise Http404
    row = selectors.get_visible_proposal(member=member, proposal_id=proposal_id)
    if row is None:
        raise Http404
    return row


# What a line of the list reads (presenters.list_items), and nothing else.
PROPOSAL_LINE = (
    "id", "kind_key", "phase", "outcome", "due_at", "federation_wide", "urgent",
    "responded_count", "eligible_count", "current_version",
)  # fmt: skip


def _lines_only(rows: Any) -> Any:
    return (
        rows.select_related(None)
        .select_related("current_version")
        .only(*PROPOSAL_LINE, *VERSION_TITLE)
    )


@proposals_router.get("/proposals", response={200: ProposalList, **ERRORS}, summary="Proposals")
def proposal_list(
    request: HttpRequest,
    show: str = Query("open", pattern="^(open|closed)$"),
    page: int = Query(1, ge=1, le=10_000),
) -> HttpResponse:
    """Return a page of the proposals the member may see: open ones, or decided ones."""
    member = _member(request)
    text = _Texts()
    if member.group_id is None:  # never, for a token's member (it has no such query)
        raise Http404
    lines = selectors.proposal_lines(member, closed=show == "closed", lines=_lines_only)
    got = paginate(request, lines)
    items = [
        {
            "id": item["row"].pk,
            "title": item["title"],
            "kind": text(item["kind"]),
            "phase": text(item["phase"]),
            "next": {"label": text(item["next"]["label"]), "at": item["next"]["at"]}
            if item["next"]
            else None,
            "awaits_you": item["awaits"],
            "federation": item["federation"],
            "urgent": item["urgent"],
            "outcome": text(item["outcome"]) if item["outcome"] else None,
            "responded": item["responded"],
            "eligible": item["eligible"],
        }
        for item in presenters.list_items(got.object_list)
    ]
    return answer(ProposalList, {"items": items, "page": _page_out(got)})


def _detail(request: HttpRequest, row: Proposal) -> dict[str, Any]:
    member = _member(request)
    now = timezone.now()
    try:
        loaded = selectors.load(row, now=now)
    except selectors.BallotsUnreadable:
        raise Problem(409, _("This vote's ballots cannot be read with your keys.")) from None
    # Whom it still awaits is the page's (with reminders), not the API's: not read.
    c = presenters.detail(loaded, member, now, pending=False)
    st = loaded.state
    responses = c["responses"]
    out: dict[str, Any] = {
        "id": row.pk,
        "title": c["version"].title,
        "body": c["version"].body,
        "kind": c["kind"].key,
        "kind_name": _text(c["kind_name"]),
        "phase": st.phase.value,
        "phase_label": _text(c["phase_label"]),
        "next": {"label": _text(c["next"]["label"]), "at": c["next"]["at"]} if c["next"] else None,
        "version": st.version,
        "urgent": bool(row.urgent),
        "federation": c["federation"],
        "spokes": c["spokes"],
        "author": _text(c["author_label"]),
        "is_author": c["is_author"],
        "options": [_text(o) for o in c["options"]],
        "my_response": c["my_response"].value if c["my_response"] else None,
        "may": sorted(c["may"]),
        "counts": [{"label": _text(label), "count": n} for label, n in c["counts"]],
        "responses": {
            "mine": [
                {
                    "name": r["name"],
                    "position": r["position_key"],
                    "position_label": _text(r["position"]),
                    "reason": r["reason"],
                }
                for r in responses["mine"]
            ],
            "others": [{"label": _text(label), "count": n} for label, n in responses["others"]],
            "other_reasons": list(responses["other_reasons"]),
        },
        "vote": None,
        "decision": None,
    }
    vote = c.get("vote")
    if vote:
        out["vote"] = {
            "method": vote["method"],
            "method_label": _text(vote["method_label"]),
            "options": [_text(label) for _i, label in vote["options"]],
            "opens_at": vote["opens_at"],
            "closes_at": vote["closes_at"],
            "secret": vote["secret"],
            "cast": vote["cast"],
            "eligible": vote["eligible"],
            "open": vote["open"],
            "may_vote": vote["may_vote"],
            "has_voted": vote["has_voted"],
        }
    decision = c.get("decision")
    if decision:
        out["decision"] = {**decision, "outcome": _text(decision["outcome"]),
                           "reached_by": _text(decision["reached_by"])}  # fmt: skip
    return out


@proposals_router.get(
    "/proposals/{int:proposal_id}", response={200: ProposalDetail, **ERRORS, 409: ProblemOut},
    summary="A proposal",
)  # fmt: skip
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Return a proposal: its text, where it stands, and what the member may do."""
    return answer(ProposalDetail, _detail(request, _visible(request, proposal_id)))


def _bound(form: Any) -> Any:
    if not form.is_valid():
        raise Problem(400, _("The form was refused."), errors=form_errors(form))
    return form.cleaned_data


@proposals_router.post(
    "/proposals/{int:proposal_id}/respond", response={200: Done, **ACTS}, summary="Respond"
)
def respond(request: HttpRequest, proposal_id: int, payload: RespondIn) -> dict[str, Any]:
    """Record the member's response to the proposal's current version."""
    _may_act(request)
    row = _visible(request, proposal_id)
    data = _bound(forms.ResponseForm(payload.dict()))
    proposal_services.respond(
        row=row,
        member=_member(request),
        position=data["position"],
        reason=data["reason"],
        version=data["version"],
    )
    return {"proposal": row.pk}


@proposals_router.post(
    "/proposals/{int:proposal_id}/amend", response={200: Done, **ACTS}, summary="Amend"
)
def amend(request: HttpRequest, proposal_id: int, payload: AmendIn) -> dict[str, Any]:
    """Put a new version of the proposal (its author only); everyone responds again."""
    _may_act(request)
    row = _visible(request, proposal_id)
    if row.author_id != _member(request).pk:
        raise Http404
    data = _bound(forms.AmendForm(payload.dict()))
    proposal_services.amend(row=row, actor=_member(request), title=data["title"], body=data["body"])
    return {"proposal": row.pk, "message": _("New version published; everyone responds again.")}


def _ballot_data(payload: VoteIn) -> QueryDict:
    """Return the ballot as the page's form would post it (forms.parse_ballot reads it)."""
    data = QueryDict(mutable=True)
    if payload.abstain:
        data["abstain"] = "1"
        data["choice"] = "abstain"
    elif payload.choice is not None:
        data["choice"] = str(payload.choice)
    data.setlist("approve", [str(i) for i in payload.approve])
    for i, score in enumerate(payload.scores):
        data[f"score-{i}"] = str(score)
    for i, rank in enumerate(payload.ranks):
        data[f"rank-{i}"] = "" if rank is None else str(rank)
    return data


@proposals_router.post(
    "/proposals/{int:proposal_id}/vote", response={200: Done, **ACTS, 409: ProblemOut},
    summary="Vote",
)  # fmt: skip
def vote(request: HttpRequest, proposal_id: int, payload: VoteIn) -> dict[str, Any]:
    """Cast a ballot in the proposal's open vote."""
    _may_act(request)
    row = _visible(request, proposal_id)
    try:
        loaded = selectors.load(row)
    except selectors.BallotsUnreadable:
        raise Problem(409, _("This vote's ballots cannot be read with your keys.")) from None
    if loaded.state.vote is None:
        raise Problem(400, _("There is no vote open."))
    ballot = forms.parse_ballot(loaded.state.vote.spec, _ballot_data(payload))
    proposal_services.cast_ballot(row=row, voter=_member(request), ballot=ballot)
    return {"proposal": row.pk}


# --- the decision log -------------------------------------------------------------------

decisions_router = Router(tags=["decisions"])


def _readable_chains(member: Any) -> list[str]:
    return [chain_name(None), chain_name(member.group_id)]


@decisions_router.get("/decisions", response={200: DecisionsOut, **ERRORS}, summary="Decisions")
def decisions(request: HttpRequest, page: int = Query(1, ge=1, le=10_000)) -> HttpResponse:
    """Return a page of the decisions the member may read, the newest first."""
    member = _member(request)
    text = _Texts()
    got = paginate(request, selectors.visible_decisions(member=member))
    items = [
        {**{k: getattr(r, k) for k in ("chain", "seq", "proposal", "at", "digest", "federation",
                                       "intact")},
         "title": text(r.title), "outcome": text(r.outcome), "reached_by": text(r.reached_by)}
        for r in presenters.decision_rows(got.object_list)
    ]  # fmt: skip
    chains = [
        {"chain": name, "export": f"/api/decisions/{name}.jsonl"}
        for name in _readable_chains(member)
    ]
    return answer(DecisionsOut, {"chains": chains, "items": items, "page": _page_out(got)})


JSONL = {"content": {"application/jsonl": {"schema": {"type": "string"}}}}


@decisions_router.get(
    "/decisions/{chain}.jsonl",
    response={200: None, **ERRORS},
    summary="A decision chain as JSON Lines",
    openapi_extra={"responses": {200: {"description": "JSON Lines", **JSONL}}},
)
def decision_export(request: HttpRequest, chain: str) -> HttpResponse:
    """Return one readable chain as JSON Lines, to verify offline with ``veche verify``."""
    if chain not in _readable_chains(_member(request)):
        raise Http404
    body = records_to_jsonl(selectors.log_records(chain))
    return HttpResponse(body, content_type="application/jsonl; charset=utf-8")


# --- the common fund --------------------------------------------------------------------

fund_router = Router(tags=["fund"])


@fund_router.get("/fund", response={200: FundOut, **ERRORS}, summary="The common fund")
def fund(request: HttpRequest, page: int = Query(1, ge=1, le=10_000)) -> HttpResponse:
    """Return the fund's balances, every account's, and a page of requests for support."""
    member = _member(request)
    totals = fund_selectors.stored_balances()
    group = _own_group(request)
    requests_page = paginate(request, fund_selectors.requests().select_related("group"))
    body = {
        "balances": [
            {"currency": c, "amount": a, "text": fund_selectors.format_money(a, c)}
            for c, a in sorted(totals.get(fund_selectors.FUND_KEY, {}).items())
        ],
        "accounts": [
            {"key": r["account"].key, "label": _text(r["label"]), "balances": r["balances"]}
            for r in fund_selectors.balances_table(totals)
        ],
        "requests": [
            {
                "id": r.pk,
                "kind": r.kind,
                "group": r.group.name,
                "state": _text(r.state_label),
                "amount": fund_selectors.format_money(r.amount, r.currency) if r.amount else "",
                "proposal": r.proposal_id,
                "created_at": r.created_at,
            }
            for r in requests_page.object_list
        ],
        "coordinator": group is not None and is_coordinator(member=member, group=group),
        "page": _page_out(requests_page),
    }
    return answer(FundOut, body)


def _amount(data: dict[str, Any]) -> tuple[int, str]:
    currency = data["currency"]
    return fund_selectors.parse_amount(data["amount"], currency), currency


@fund_router.post("/fund/contributions", response={200: Done, **ACTS}, summary="Contribute")
def contribute(request: HttpRequest, payload: ContributeIn) -> dict[str, Any]:
    """Record a contribution of the member's group (its coordinators only)."""
    _may_act(request)
    data = _bound(
        fund_forms.ContributionForm(
            {"amount": payload.amount, "currency": payload.currency, "memo": payload.memo,
             "token": payload.idempotency_key}
        )
    )  # fmt: skip
    amount, currency = _amount(data)
    fund_services.contribute(
        actor=_member(request), amount=amount, currency=currency, memo=data["memo"],
        idempotency_key=data["token"],
    )  # fmt: skip
    return {"message": _("The contribution is recorded.")}


@fund_router.post("/fund/requests", response={200: Done, **ACTS}, summary="Ask the fund")
def request_support(request: HttpRequest, payload: RequestIn) -> dict[str, Any]:
    """Ask the federation for money, or the other groups for help (coordinators only)."""
    _may_act(request)
    member = _member(request)
    if payload.kind == "money":
        data = _bound(
            fund_forms.MoneyRequestForm(
                {"amount": payload.amount, "currency": payload.currency,
                 "purpose": payload.purpose, "token": payload.idempotency_key}
            )
        )  # fmt: skip
        amount, currency = _amount(data)
        row = fund_services.request_money(
            actor=member, amount=amount, currency=currency, purpose=data["purpose"],
            idempotency_key=data["token"],
        )  # fmt: skip
    else:
        data = _bound(
            fund_forms.HelpRequestForm(
                {"purpose": payload.purpose, "token": payload.idempotency_key}
            )
        )
        row = fund_services.request_help(
            actor=member, purpose=data["purpose"], idempotency_key=data["token"]
        )
    return {"request": row.pk, "proposal": row.proposal_id}


# --- one's own group --------------------------------------------------------------------

group_router = Router(tags=["group"])


@group_router.get("/members", response={200: MembersOut, **ERRORS}, summary="Your group")
def members(request: HttpRequest) -> HttpResponse:
    """Return the members of the member's own group (never another group's)."""
    member = _member(request)
    group = _own_group(request)
    if group is None:
        raise Http404
    coordinators = {m.pk for m in group_coordinators(group=group)}
    body = {
        "group": group.name,
        "members": [
            {"id": m.pk, "pseudonym": m.pseudonym, "coordinator": m.pk in coordinators,
             "you": m.pk == member.pk}
            for m in group_members(group=group)
        ],
    }  # fmt: skip
    return answer(MembersOut, body)


for router in (inbox_router, proposals_router, decisions_router, fund_router, group_router):
    api.add_router("", router)
