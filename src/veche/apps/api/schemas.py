"""The API's JSON shapes (pydantic, through django-ninja): what the OpenAPI document says."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field


class FieldError(Schema):
    field: str | None = None
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class PageOut(Schema):
    number: int
    has_next: bool


class Step(Schema):
    label: str
    at: dt.datetime | None = None


class InboxItem(Schema):
    proposal: int
    title: str
    phase: str
    reasons: list[str]
    deadline: dt.datetime | None = None
    soon: bool
    to_fund: bool
    reminded_at: dt.datetime | None = None


class InboxOther(Schema):
    """Something else that waits (the fund's requests a coordinator may answer or pay)."""

    title: str
    url: str
    reasons: list[str]
    at: dt.datetime | None = None


class InboxOut(Schema):
    items: list[InboxItem]
    other: list[InboxOther]
    page: PageOut


class ProposalItem(Schema):
    id: int
    title: str
    kind: str
    phase: str
    next: Step | None = None
    awaits_you: bool
    federation: bool
    urgent: bool
    outcome: str | None = None
    responded: int
    eligible: int


class ProposalList(Schema):
    items: list[ProposalItem]
    page: PageOut


class ResponseLine(Schema):
    name: str
    position: str
    position_label: str
    reason: str


class CountLine(Schema):
    label: str
    count: int


class Responses(Schema):
    mine: list[ResponseLine]
    others: list[CountLine]
    other_reasons: list[str]


class VoteOut(Schema):
    method: str
    method_label: str
    options: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
    secret: bool
    cast: int
    eligible: int
    open: bool
    may_vote: bool
    has_voted: bool


class DecisionOut(Schema):
    outcome: str
    outcome_key: str
    reached_by: str
    at: dt.datetime
    version: int


class ProposalDetail(Schema):
    id: int
    title: str
    body: str
    kind: str
    kind_name: str
    phase: str
    phase_label: str
    next: Step | None = None
    version: int
    urgent: bool
    federation: bool
    spokes: bool
    author: str
    is_author: bool
    options: list[str]
    my_response: str | None = None
    may: list[str]
    counts: list[CountLine]
    responses: Responses
    vote: VoteOut | None = None
    decision: DecisionOut | None = None


class RespondIn(Schema):
    position: Literal["agree", "stand_aside", "object", "block"]
    reason: str = Field(default="", max_length=4000)
    version: int = Field(ge=1, le=2_000_000_000)


class AmendIn(Schema):
    title: str = Field(max_length=200)
    body: str = Field(max_length=20_000)


class VoteIn(Schema):
    """A ballot, by the vote's method (see the proposal's ``vote.method``).

    majority, supermajority: ``choice`` (an option's index) or ``abstain``; approval:
    ``approve`` (indices); score: ``scores`` (one per option) or ``abstain``; instant
    runoff, Schulze: ``ranks`` (one per option: 1 for the first choice, null unranked).
    """

    choice: int | None = Field(default=None, ge=0, le=1000)
    abstain: bool = False
    approve: list[int] = Field(default_factory=list, max_length=1000)
    scores: list[int] = Field(default_factory=list, max_length=1000)
    ranks: list[int | None] = Field(default_factory=list, max_length=1000)


class Done(Schema):
    """What an action did."""

    done: bool = True
    proposal: int | None = None
    request: int | None = None
    message: str = ""


class DecisionRow(Schema):
    chain: str
    seq: int
    proposal: int | None = None
    title: str
    outcome: str
    reached_by: str
    at: dt.datetime | None = Field(
        description="when it was decided; null only for a record changed in the database "
        "so that its date cannot be read (then intact is false)"
    )
    digest: str
    federation: bool
    intact: bool


class ChainOut(Schema):
    chain: str
    export: str


class DecisionsOut(Schema):
    chains: list[ChainOut]
    items: list[DecisionRow]
    page: PageOut


class Money(Schema):
    currency: str
    amount: int = Field(description="in the currency's minor units")
    text: str


class AccountOut(Schema):
    key: str
    label: str
    balances: list[Money]


class RequestOut(Schema):
    id: int
    kind: str
    group: str
    state: str
    amount: str
    proposal: int | None = None
    created_at: dt.datetime


class FundOut(Schema):
    balances: list[Money]
    accounts: list[AccountOut]
    requests: list[RequestOut]
    coordinator: bool
    page: PageOut


class ContributeIn(Schema):
    amount: str = Field(max_length=40, description="as typed on the page, e.g. 12.50")
    currency: str = Field(max_length=8)
    memo: str = Field(default="", max_length=1000)
    idempotency_key: str = Field(
        min_length=8, max_length=64, description="any fresh string: one key, one posting"
    )


class RequestIn(Schema):
    kind: Literal["money", "help"]
    purpose: str = Field(max_length=4000)
    amount: str = Field(default="", max_length=40)
    currency: str = Field(default="", max_length=8)
    idempotency_key: str = Field(min_length=8, max_length=64)


class MemberOut(Schema):
    id: int
    pseudonym: str
    coordinator: bool
    you: bool


class MembersOut(Schema):
    group: str
    members: list[MemberOut]
