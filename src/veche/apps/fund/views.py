"""The fund's pages: thin views that validate a form, call a service, render.

Every member of the federation may read the fund (balances, transactions, requests and
their state: federation-level matters, groups named, members never). Writing needs a
coordinator, which the services check; the others are told what they may do and whom
to ask (their own group's coordinators). Bad input is a 400 with the reason beside the
form that still holds what was typed, and nothing is stored; an action's URL opened in
the browser leads back to the page with its form (``core.actions.form_at``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from veche.apps.core.actions import form_at
from veche.apps.core.errors import translated
from veche.apps.core.pagination import paginate
from veche.apps.core.permissions import member_required
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import (
    group_coordinators,
    is_own_group_coordinator,
    own_group,
)
from veche.apps.fund import charts, forms, selectors, services
from veche.apps.fund.models import FundTransaction, HelpAnswer, SupportRequest
from veche.domain import ledger
from veche.domain.errors import DomainError

CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"
# The fund page's forms, by the name the page and the refusals use.
FUND_FORMS: dict[str, type[forms.forms.Form]] = {
    "contribute": forms.ContributionForm,
    "money": forms.MoneyRequestForm,
    "help": forms.HelpRequestForm,
    "transfer": forms.TransferForm,
}


def _own_group(member: Any) -> Group | None:
    return own_group(member)


def _is_coordinator(member: Any) -> bool:
    return is_own_group_coordinator(member)


def _coordinators(member: Any) -> list[str]:
    """Return the pseudonyms of the member's own group's coordinators (never another's)."""
    group = _own_group(member)
    return [m.pseudonym for m in group_coordinators(group=group)] if group is not None else []


def _label(form: Any, field: str | None) -> str:
    if field and field in form.fields and form.fields[field].label:
        return str(form.fields[field].label)
    return ""


def _said(label: str, message: str) -> str:
    return f"{label}: {message}" if label else message


def _form_errors(form: Any) -> list[str]:
    """Return a refused form's errors, each named by its field's label."""
    return [_said(_label(form, name), str(error))
            for name, errors in form.errors.items() for error in errors]  # fmt: skip


def _domain_error(form: Any, error: DomainError) -> list[str]:
    return [_said(_label(form, error.field), translated(error))]


def _request_row(row: SupportRequest) -> dict[str, Any]:
    return {
        "row": row,
        "amount": selectors.format_money(row.amount, row.currency) if row.amount else "",
        "state": row.state_label,
    }


def _fund_page(
    request: HttpRequest,
    *,
    failed: str = "",
    refusal: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Return the fund page; after a refusal, the form that failed keeps what was typed."""
    totals = selectors.stored_balances()
    accounts = selectors.balances_table(totals)
    fund_balances = [
        {"currency": c, "text": selectors.format_money(a, c)}
        for c, a in sorted(totals.get(selectors.FUND_KEY, {}).items())
    ]
    coordinator = _is_coordinator(request.user)
    requests_page = paginate(request, selectors.request_pages())
    # Only coordinators are shown the forms (and the groups a transfer may go to).
    forms_shown: dict[str, Any] = {}
    if coordinator:
        bound = {failed: FUND_FORMS[failed](request.POST)} if failed in FUND_FORMS else {}
        forms_shown = {name: bound.get(name) or form() for name, form in FUND_FORMS.items()}
    context = {
        "fund_balances": fund_balances,
        "accounts": accounts,
        # Each transaction's entries, their accounts labelled as in the table above.
        "recent": selectors.recent_transactions({a["account"].pk: a["label"] for a in accounts}),
        "requests": [_request_row(r) for r in requests_page.object_list],
        "page": requests_page,
        # Every currency that ever moved: each has a stored balance.
        "currencies": sorted({c for per in totals.values() for c in per}),
        "coordinator": coordinator,
        # Whom to ask: the member's own group's coordinators, by pseudonym.
        "coordinators": [] if coordinator else _coordinators(request.user),
        "groups": (
            Group.objects.filter(dissolved_at__isnull=True).exclude(pk=request.user.group_id)
            if coordinator
            else ()
        ),
        "forms": forms_shown,
        "failed": failed,
        "refusal": refusal or [],
        "amount_example": selectors.typed_example(),
        "token": services.new_token(),
    }
    return render(request, "fund/index.html", context, status=status)


@member_required
@require_GET
def fund(request: HttpRequest) -> HttpResponse:
    """Return the fund: balances per currency, recent transactions, requests."""
    return _fund_page(request)


def _refused(request: HttpRequest, where: str, refusal: list[str]) -> HttpResponse:
    return _fund_page(request, failed=where, refusal=refusal, status=400)


def _amount(data: dict[str, Any]) -> tuple[int, str]:
    currency = data["currency"]
    return selectors.parse_amount(data["amount"], currency), currency


# Opened in the browser, the fund's actions lead back to the page that holds their forms.
_form_on_fund = form_at("fund:index")


def _request_or_404(request: HttpRequest, request_id: int) -> SupportRequest:
    return get_object_or_404(selectors.requests(), pk=request_id)


_form_on_request = form_at("fund:request", guard=_request_or_404)


@member_required
@_form_on_fund
def contribute(request: HttpRequest) -> HttpResponse:
    """Record a contribution of the member's group."""
    form = forms.ContributionForm(request.POST)
    if not form.is_valid():
        return _refused(request, "contribute", _form_errors(form))
    try:
        amount, currency = _amount(form.cleaned_data)
        services.contribute(
            actor=request.user,
            amount=amount,
            currency=currency,
            memo=form.cleaned_data["memo"],
            idempotency_key=form.cleaned_data["token"],
        )
    except DomainError as error:
        return _refused(request, "contribute", _domain_error(form, error))
    messages.success(request, _("The contribution is recorded."))
    return redirect("fund:index")


@member_required
@_form_on_fund
def request_money(request: HttpRequest) -> HttpResponse:
    """Ask the federation for money: creates the request and its proposal."""
    form = forms.MoneyRequestForm(request.POST)
    if not form.is_valid():
        return _refused(request, "money", _form_errors(form))
    try:
        amount, currency = _amount(form.cleaned_data)
        row = services.request_money(
            actor=request.user,
            amount=amount,
            currency=currency,
            purpose=form.cleaned_data["purpose"],
            idempotency_key=form.cleaned_data["token"],
        )
    except DomainError as error:
        return _refused(request, "money", _domain_error(form, error))
    return redirect("fund:request", request_id=row.pk)


@member_required
@_form_on_fund
def request_help(request: HttpRequest) -> HttpResponse:
    """Ask the other groups for help and advice."""
    form = forms.HelpRequestForm(request.POST)
    if not form.is_valid():
        return _refused(request, "help", _form_errors(form))
    try:
        row = services.request_help(
            actor=request.user,
            purpose=form.cleaned_data["purpose"],
            idempotency_key=form.cleaned_data["token"],
        )
    except DomainError as error:
        return _refused(request, "help", _domain_error(form, error))
    return redirect("fund:request", request_id=row.pk)


@member_required
@_form_on_fund
def transfer(request: HttpRequest) -> HttpResponse:
    """Move money from the member's group's account to another group's, by decision."""
    form = forms.TransferForm(request.POST)
    if not form.is_valid():
        return _refused(request, "transfer", _form_errors(form))
    data = form.cleaned_data
    try:
        amount, currency = _amount(data)
        services.transfer(
            actor=request.user,
            to_group_id=data["to_group"],
            amount=amount,
            currency=currency,
            proposal_id=data["decision"],
            memo=data["memo"],
            idempotency_key=data["token"],
        )
    except DomainError as error:
        return _refused(request, "transfer", _domain_error(form, error))
    messages.success(request, _("The transfer is recorded."))
    return redirect("fund:index")


def _request_page(
    request: HttpRequest,
    row: SupportRequest,
    *,
    refusal: list[str] | None = None,
    typed: str = "",
    status: int = 200,
) -> HttpResponse:
    answers = [
        {"group": a.group.name, "at": a.created_at, "text": a.text}
        for a in HelpAnswer.objects.filter(request=row).select_related("group")
    ]
    paid = FundTransaction.objects.filter(request=row, kind="disbursement").first()
    coordinator = _is_coordinator(request.user)
    is_open_help = row.kind == SupportRequest.Kind.HELP and row.state == SupportRequest.State.OPEN
    context = {
        "item": _request_row(row),
        "answers": answers,
        "paid": paid,
        "coordinator": coordinator,
        "coordinators": [] if coordinator else _coordinators(request.user),
        "own": row.group_id == request.user.group_id,
        "can_answer": coordinator and is_open_help and row.group_id != request.user.group_id,
        "can_close": coordinator and is_open_help and row.group_id == request.user.group_id,
        "can_disburse": coordinator and row.state == SupportRequest.State.ADOPTED and not paid,
        "refusal": refusal or [],
        "typed": typed,
        "token": services.new_token(),
    }
    return render(request, "fund/request.html", context, status=status)


@member_required
@require_GET
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """Return a request for support, its decision or answers."""
    return _request_page(request, _request_or_404(request, request_id))


@member_required
@_form_on_request
def answer(request: HttpRequest, request_id: int) -> HttpResponse:
    """Answer a request for help (a coordinator of another group)."""
    row = _request_or_404(request, request_id)
    form = forms.AnswerForm(request.POST)
    typed = request.POST.get("text", "")
    if not form.is_valid():
        return _request_page(request, row, refusal=_form_errors(form), typed=typed, status=400)
    try:
        services.answer_help(
            actor=request.user,
            request=row,
            text=form.cleaned_data["text"],
            idempotency_key=form.cleaned_data["token"],
        )
    except DomainError as error:
        refusal = _domain_error(form, error)
        return _request_page(request, row, refusal=refusal, typed=typed, status=400)
    return redirect("fund:request", request_id=row.pk)


@member_required
@_form_on_request
def close(request: HttpRequest, request_id: int) -> HttpResponse:
    """Close the group's own request for help."""
    row = _request_or_404(request, request_id)
    try:
        services.close_help(actor=request.user, request=row)
    except DomainError as error:
        return _request_page(request, row, refusal=[translated(error)], status=400)
    return redirect("fund:request", request_id=row.pk)


@member_required
@_form_on_fund
def disburse(request: HttpRequest) -> HttpResponse:
    """Pay out what an adopted disbursement decision granted (once per decision)."""
    form = forms.DisburseForm(request.POST)
    if not form.is_valid():
        return _refused(request, "disburse", _form_errors(form))
    try:
        row = services.disburse(
            actor=request.user,
            proposal_id=form.cleaned_data["decision"],
            idempotency_key=form.cleaned_data["token"],
        )
    except DomainError as error:
        # Refused on the request's page, where the button is, when there is one.
        asked = selectors.requests().filter(proposal_id=form.cleaned_data["decision"]).first()
        if asked is not None:
            return _request_page(request, asked, refusal=[translated(error)], status=400)
        return _refused(request, "disburse", [translated(error)])
    messages.success(request, _("The disbursement is recorded."))
    return redirect("fund:request", request_id=row.request_id)


def _period(request: HttpRequest) -> tuple[dt.datetime, dt.datetime, forms.PeriodForm]:
    form = forms.PeriodForm(request.GET or None)
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    end = timezone.now() + dt.timedelta(seconds=1)
    if request.GET and form.is_valid():
        if form.cleaned_data["start"]:
            start = dt.datetime.combine(form.cleaned_data["start"], dt.time(), tzinfo=dt.UTC)
        if form.cleaned_data["end"]:
            end = dt.datetime.combine(form.cleaned_data["end"], dt.time(), tzinfo=dt.UTC)
    return start, end, form


@member_required
@require_GET
def account_statement(request: HttpRequest, key: str) -> HttpResponse:
    """Return an account's statement for a period (default: everything so far)."""
    account = selectors.get_account(key)
    if account is None:
        raise Http404
    start, end, form = _period(request)
    if (request.GET and not form.is_valid()) or end < start:
        context = {
            "account": account,
            "label": selectors.account_label(account),
            "form": form,
            "error": _("Give the period as two dates, the first before the second."),
        }
        return render(request, "fund/statement.html", context, status=400)
    page = paginate(request, selectors.statement_pages(account, start, end))
    opening = selectors.balance_before(account, start)
    closing = selectors.balance_before(account, end)
    context = {
        "account": account,
        "label": selectors.account_label(account),
        "form": form,
        "page": page,
        "lines": [
            {
                "entry": e,
                "kind": FundTransaction.Kind(e.transaction.kind).label,
                "amount": selectors.format_money(e.amount, e.currency),
                "balance": selectors.format_money(e.balance_after, e.currency),
            }
            for e in page.object_list
        ],
        "opening": [
            selectors.format_money(amount, currency) for currency, amount in sorted(opening.items())
        ],
        "closing": [
            selectors.format_money(amount, currency) for currency, amount in sorted(closing.items())
        ],
        "start": start,
        "end": end,
    }
    return render(request, "fund/statement.html", context)


@member_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """Return every entry of the fund as CSV (one line per entry, amounts as decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["seq", "transaction", "kind", "at", "account", "amount", "currency", "minor_units",
         "decision", "digest"]
    )  # fmt: skip
    for row in selectors.transaction_rows():
        for entry in row.entries.all():
            writer.writerow(
                [
                    row.seq,
                    row.uid,
                    row.kind,
                    row.at.astimezone(dt.UTC).isoformat(),
                    entry.account.key,
                    selectors.plain_amount(entry.amount, entry.currency),
                    entry.currency,
                    entry.amount,
                    row.payload.get("decision_ref") or "",
                    row.digest,
                ]
            )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="veche-fund-{stamp}.csv"'
    return response


def _svg(body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    # The middleware keeps a view's own CSP: an image needs nothing but itself.
    response["Content-Security-Policy"] = CHART_CSP
    return response


def _currency_or_404(currency: str) -> str:
    try:
        ledger.minor_unit_exponent(currency)
    except DomainError:
        raise Http404 from None
    return currency


@member_required
@require_GET
def balance_chart(request: HttpRequest, currency: str) -> HttpResponse:
    """Return the common fund's balance over time in ``currency`` as SVG (steps from zero)."""
    currency = _currency_or_404(currency)
    title = _("Common fund balance, %(currency)s") % {"currency": currency}
    steps = selectors.balance_steps(selectors.FUND_KEY, currency)
    return _svg(charts.balance_chart(steps, currency, title, until=timezone.now()))


@member_required
@require_GET
def monthly_chart(request: HttpRequest, currency: str) -> HttpResponse:
    """Return contributions and disbursements per month in ``currency`` as SVG."""
    currency = _currency_or_404(currency)
    title = _("Contributions and disbursements per month, %(currency)s") % {"currency": currency}
    return _svg(charts.monthly_chart(selectors.monthly_flows(currency), currency, title))
