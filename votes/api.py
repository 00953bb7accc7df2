"""The JSON API of ballots, their votes (the roll call), veto grants and disputes; and its writes: casting and
withdrawing a vote on one cell, raising a dispute.

Ballots are public, as their pages are. While a ballot's results are not public (results
after close, still voting) its roll call is a 403 that says when it is published, and what
the pages keep sealed stays so here: the vote counts, and how often each grant was used.

The writes go through the services the pages use, with their refusals (400 for what the rules refuse, 403 for
what the person may not do, 404 for a cell the ballot has not), their audit events and the same per-person rate
limit as the vote grid. A cast answers with the vote cast alone: never anyone else's, sealed or not.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from audit.models import head
from config import ratelimits
from deliberation.access import get_definition
from deliberation.api import HANDLE, SLUG, Key, NotFound, Refused, Slug
from tokens.auth import write
from tokens.models import Scope

from . import rollcall, services
from .access import get_ballot, get_voter
from .models import RATIONALE_MAX_LENGTH, REASON_MAX_LENGTH, Ballot, Dispute, VetoGrant, Vote

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ROLL_CALL_SEALED = "The roll call of this ballot is published when voting closes."

router = Router(tags=["votes"])


class _Counted(TypedDict):  # BallotQuerySet.with_counts()
    vote_count: int


class _Flagged(TypedDict):  # VoteQuerySet.with_flags()
    is_disputed: bool
    is_conflicted: bool


class _Used(TypedDict):  # the grants' .annotate(uses=Count("votes"))
    uses: int


class Sealed(Schema):
    detail: str


class BallotSummaryOut(Schema):
    key: str
    title: str
    version: str
    status: Literal[tuple(Ballot.Status.values)]  # type: ignore[valid-type]  # built at import: see deliberation.api
    results_visibility: Literal[tuple(Ballot.Visibility.values)]  # type: ignore[valid-type]  # as status
    results_public: bool
    opens_at: datetime | None
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    vote_count: int | None
    url: str

    @staticmethod
    def resolve_version(obj: Ballot) -> str:
        return obj.version.label

    @staticmethod
    def resolve_vote_count(obj: "WithAnnotations[Ballot, _Counted]") -> int | None:
        return obj.vote_count if obj.results_public else None

    @staticmethod
    def resolve_url(obj: Ballot) -> str:
        return obj.get_absolute_url()


class GroupRefOut(Schema):
    key: str
    name: str


class CriterionOut(Schema):
    key: str
    label: str


class ChoiceOut(Schema):
    key: str
    label: str
    value: int
    requires_grant: bool
    blocking: bool
    requires_rationale: bool


class RosterEntryOut(Schema):
    member: str
    role: str


class BallotOut(BallotSummaryOut):
    definition: str
    description: str
    groups: list[GroupRefOut]
    criteria: list[CriterionOut]
    choices: list[ChoiceOut]
    methodology: dict
    clustering: dict
    roster_at_close: dict[str, list[RosterEntryOut]] | None
    voter_count: int | None
    grant_count: int
    open_disputes: int
    audit_stream: str
    audit_head: str

    @staticmethod
    def resolve_definition(obj: Ballot) -> str:
        return obj.definition.slug

    @staticmethod
    def resolve_groups(obj: Ballot):
        return obj.groups.order_by("key")

    @staticmethod
    def resolve_criteria(obj: Ballot):
        return obj.criteria.all()

    @staticmethod
    def resolve_choices(obj: Ballot):
        return obj.choices.all()

    @staticmethod
    def resolve_vote_count(obj: Ballot) -> int | None:
        return obj.votes.count() if obj.results_public else None

    @staticmethod
    def resolve_voter_count(obj: Ballot) -> int | None:
        return obj.votes.values("voter").distinct().count() if obj.results_public else None

    @staticmethod
    def resolve_grant_count(obj: Ballot) -> int:
        return obj.grants.active().count()

    @staticmethod
    def resolve_open_disputes(obj: Ballot) -> int:
        return obj.disputes.filter(status=Dispute.Status.OPEN).count()

    @staticmethod
    def resolve_audit_head(obj: Ballot) -> str:
        return head(obj.audit_stream)


class VoteFields(Schema):
    """A vote as the roll call and a cast's answer both write it: what was chosen, by whom, for whom."""

    voter: str
    group: str
    component: str
    criterion: str
    choice: str
    value: int
    rationale: str
    cast_at: datetime
    cast_by: str
    undocumented_veto: bool

    @staticmethod
    def resolve_voter(obj: Vote) -> str:
        return obj.voter.get_username()

    @staticmethod
    def resolve_group(obj: Vote) -> str:
        return obj.group.key

    @staticmethod
    def resolve_component(obj: Vote) -> str:
        return obj.component.key

    @staticmethod
    def resolve_criterion(obj: Vote) -> str:
        return obj.criterion.key

    @staticmethod
    def resolve_choice(obj: Vote) -> str:
        return obj.choice.key

    @staticmethod
    def resolve_value(obj: Vote) -> int:
        return obj.choice.value

    @staticmethod
    def resolve_cast_by(obj: Vote) -> str:
        return obj.cast_by.get_username()

    @staticmethod
    def resolve_undocumented_veto(obj: Vote) -> bool:
        return obj.is_undocumented_veto


class VoteOut(VoteFields):
    """A vote of the roll call, with the flags its read annotates."""

    disputed: bool
    conflicted: bool
    carried: bool  # carried from the ballot on the previous version, not confirmed since (Vote.carried)
    outdated: bool

    @staticmethod
    def resolve_disputed(obj: "WithAnnotations[Vote, _Flagged]") -> bool:
        return obj.is_disputed

    @staticmethod
    def resolve_conflicted(obj: "WithAnnotations[Vote, _Flagged]") -> bool:
        """Cast while its voter has a standing declared conflict of interest in the ballot or the component."""
        return obj.is_conflicted


class HolderOut(Schema):
    group: str | None
    member: str | None


class GrantOut(Schema):
    id: int
    holder: HolderOut
    choice: str
    category: str
    reason: str
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str
    uses: int | None

    @staticmethod
    def resolve_holder(obj: VetoGrant) -> dict:
        return obj.holder_data()

    @staticmethod
    def resolve_choice(obj: VetoGrant) -> str:
        return obj.choice.key

    @staticmethod
    def resolve_granted_by(obj: VetoGrant) -> str:
        return obj.granted_by.get_username()

    @staticmethod
    def resolve_revoked_by(obj: VetoGrant) -> str | None:
        return obj.revoked_by.get_username() if obj.revoked_by is not None else None

    @staticmethod
    def resolve_uses(obj: "WithAnnotations[VetoGrant, _Used]") -> int | None:
        return obj.uses if obj.ballot.results_public else None


class SelectionOut(Schema):
    voter: str | None
    group: str | None
    choice: str | None
    component: str | None
    criterion: str | None


class DisputeOut(Schema):
    id: int
    selection: SelectionOut
    description: str
    reason: str
    raised_by: str
    raised_at: datetime
    status: Literal[tuple(Dispute.Status.values)]  # type: ignore[valid-type]  # built from the choices at import
    resolution: str
    resolved_by: str | None
    resolved_at: datetime | None

    @staticmethod
    def resolve_selection(obj: Dispute) -> dict:
        return obj.selection_data()

    @staticmethod
    def resolve_description(obj: Dispute) -> str:
        return obj.selection

    @staticmethod
    def resolve_raised_by(obj: Dispute) -> str:
        return obj.raised_by.get_username()

    @staticmethod
    def resolve_resolved_by(obj: Dispute) -> str | None:
        return obj.resolved_by.get_username() if obj.resolved_by is not None else None


class VoteFilters(Schema):
    group: str | None = Query(None, pattern=SLUG, description="Only votes cast for this group (its key).")
    voter: str | None = Query(None, pattern=r"^@?[^\x00]+$", description="Only this voter's votes (a handle).")
    component: str | None = Query(None, pattern=SLUG, description="Only votes on this component (its key).")
    choice: str | None = Query(None, pattern=SLUG, description="Only votes with this choice (its key).")
    flag: Literal[rollcall.FLAGS] | None = Query(  # type: ignore[valid-type]  # built from rollcall.FLAGS at import
        None,
        description=(
            "Only undocumented vetoes, only votes under an open or upheld dispute, or only votes cast over a "
            "standing declared conflict of interest."
        ),
    )


@router.get("/definitions/{slug}/ballots", response={200: list[BallotSummaryOut], 404: NotFound})
@paginate
def ballot_list(request: HttpRequest, slug: Slug):
    """The definition's ballots, newest first. `vote_count` is null while the votes are sealed."""
    return get_definition(slug).ballots.select_related("definition", "version").with_counts().order_by("-created_at")


@router.get("/definitions/{slug}/ballots/{key}", response={200: BallotOut, 404: NotFound})
def ballot(request: HttpRequest, slug: Slug, key: Key):
    """A ballot's rules: criteria, the choice scale, methodology and clustering, its groups and where it stands."""
    return get_ballot(slug, key)


@router.get("/definitions/{slug}/ballots/{key}/votes", response={200: list[VoteOut], 403: Sealed, 404: NotFound})
@paginate
def vote_list(request: HttpRequest, slug: Slug, key: Key, filters: Query[VoteFilters]):
    """The roll call: every current vote, like the page, filterable the same way; 403 while it is sealed."""
    ballot = get_ballot(slug, key)
    if not ballot.results_public:
        raise HttpError(403, ROLL_CALL_SEALED)
    votes = ballot.votes.with_flags().select_related("voter", "group", "component", "criterion", "choice", "cast_by")
    applied = {name: getattr(filters, name) or "" for name in rollcall.FILTERS}
    return rollcall.filtered(ballot, votes, flag=filters.flag or "", **applied).order_by(
        "component__category",
        "component__position",
        "component__key",
        "criterion__position",
        "voter__username",
        "pk",
    )


@router.get("/definitions/{slug}/ballots/{key}/grants", response={200: list[GrantOut], 404: NotFound})
@paginate
def grant_list(request: HttpRequest, slug: Slug, key: Key):
    """Every veto grant, revoked ones included. `uses` is null while the votes are sealed."""
    ballot = get_ballot(slug, key)
    return (
        ballot.grants.select_related("ballot", "choice", "group", "member", "granted_by", "revoked_by")
        .annotate(uses=Count("votes"))
        .order_by("granted_at", "pk")
    )


@router.get("/definitions/{slug}/ballots/{key}/disputes", response={200: list[DisputeOut], 404: NotFound})
@paginate
def dispute_list(request: HttpRequest, slug: Slug, key: Key):
    """Every dispute, newest first, with its selection of votes and its resolution."""
    ballot = get_ballot(slug, key)
    return ballot.disputes.with_people().order_by("-raised_at", "-pk")


# Writes ---------------------------------------------------------------------------------------------------------

WRITE_ERRORS = {400: Refused, 401: Refused, 403: Refused, 404: NotFound, 429: Refused}


class CellIn(Schema):
    component: str = Field(pattern=SLUG, max_length=64, description="A leaf component's key.", examples=["code"])
    criterion: str = Field(pattern=SLUG, max_length=32, description="A criterion's key.", examples=["use"])
    voter: str | None = Field(
        None, pattern=HANDLE, max_length=150, description="Organizers only: the member whose vote this is (a handle)."
    )


class CastIn(CellIn):
    choice: str = Field(
        pattern=SLUG, max_length=32, description="A choice's key on the ballot's scale.", examples=["required"]
    )
    rationale: str = Field("", max_length=RATIONALE_MAX_LENGTH, examples=["Nobody studies a model without its code."])
    group: str | None = Field(
        None,
        pattern=SLUG,
        max_length=64,
        description="The group the vote counts for: needed by a member of several enrolled groups, at first.",
    )


class CastOut(VoteFields):
    """The vote as cast: the voter's own, which they see on their grid whether the ballot is sealed or not."""


class DisputeIn(Schema):
    """Which current votes are disputed: all that match every selector given (at least one), and why."""

    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH, description="Public.", examples=["No rationale."])
    voter: str | None = Field(None, pattern=HANDLE, max_length=150, description="A voter's handle.", examples=["alice"])
    group: str | None = Field(None, pattern=SLUG, max_length=64)
    choice: str | None = Field(None, pattern=SLUG, max_length=32)
    component: str | None = Field(None, pattern=SLUG, max_length=64)
    criterion: str | None = Field(None, pattern=SLUG, max_length=32)


def _example(body: dict) -> dict:
    """A request body to show in the docs (and to try first: schemathesis sends it)."""
    return {"requestBody": {"content": {"application/json": {"example": body}}}}


def _cell(ballot: Ballot, cell: CellIn):
    """The component and criterion named, as the grid's form reads them: a 404 for one the ballot has not."""
    component = get_object_or_404(ballot.version.components, key=cell.component)
    criterion = get_object_or_404(ballot.criteria, key=cell.criterion)
    return component, criterion


def _check_vote_limit(request: HttpRequest) -> None:
    if too_many := ratelimits.vote_saves(request):
        raise HttpError(429, too_many)


@router.post(
    "/definitions/{slug}/ballots/{key}/votes",
    auth=write(Scope.VOTE),
    response={200: CastOut} | WRITE_ERRORS,
    openapi_extra=_example({"component": "code", "criterion": "use", "choice": "required", "rationale": "Code first."}),
)
def cast_vote(request: HttpRequest, slug: Slug, key: Key, cell: CastIn):
    """Cast or change a vote on one cell (component × criterion), as the vote grid's Save does. Scope `vote`."""
    ballot = get_ballot(slug, key)
    voter = get_voter(ballot, request.user, cell.voter)  # type: ignore[arg-type]  # signed in: auth let it through
    component, criterion = _cell(ballot, cell)
    choice = ballot.choices.filter(key=cell.choice).first()
    if choice is None:
        raise ValidationError("That choice is not on this ballot's scale.")
    group = None
    if cell.group is not None:
        group = ballot.groups.filter(key=cell.group).first()
        if group is None:
            raise ValidationError(f"No working group “{cell.group}” is enrolled in this ballot.")
    _check_vote_limit(request)
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=component,
        criterion=criterion,
        choice=choice,
        rationale=cell.rationale,
        group=group,
        acting_user=request.user,  # type: ignore[arg-type]  # as above
    )


@router.post(
    "/definitions/{slug}/ballots/{key}/votes/withdraw",
    auth=write(Scope.VOTE),
    response={204: None} | WRITE_ERRORS,
    openapi_extra=_example({"component": "code", "criterion": "use"}),
)
def withdraw_vote(request: HttpRequest, slug: Slug, key: Key, cell: CellIn):
    """Withdraw the vote on one cell, as choosing “— no vote —” on the grid does. Scope `vote`."""
    ballot = get_ballot(slug, key)
    voter = get_voter(ballot, request.user, cell.voter)  # type: ignore[arg-type]  # signed in: auth let it through
    component, criterion = _cell(ballot, cell)
    _check_vote_limit(request)
    services.withdraw_vote(
        ballot=ballot,
        voter=voter,
        component=component,
        criterion=criterion,
        acting_user=request.user,  # type: ignore[arg-type]  # as above
    )
    return Status(204, None)


def _selected(ballot: Ballot, name: str, queryset, value: str | None):
    if value is None:
        return None
    found = queryset.filter(key=value).first()
    if found is None:
        raise ValidationError(f"This ballot has no {name} “{value}”.")
    return found


@router.post(
    "/definitions/{slug}/ballots/{key}/disputes",
    auth=write(Scope.DISPUTE),
    response={201: DisputeOut} | WRITE_ERRORS,
    openapi_extra=_example({"voter": "alice", "choice": "not-necessary", "reason": "A veto with no rationale."}),
)
def raise_dispute(request: HttpRequest, slug: Slug, key: Key, dispute: DisputeIn):
    """Dispute every current vote matching all the selectors given, as the disputes page does. Scope `dispute`."""
    ballot = get_ballot(slug, key)
    voter = None
    if dispute.voter is not None:
        handle = dispute.voter.lstrip("@")
        voter = get_user_model().objects.filter(username__iexact=handle).first()
        if voter is None:
            raise ValidationError(f"No account has the handle {handle}.")
    raised = services.raise_dispute(
        ballot=ballot,
        raised_by=request.user,  # type: ignore[arg-type]  # signed in: auth let it through
        reason=dispute.reason,
        voter=voter,
        group=_selected(ballot, "group", ballot.groups.all(), dispute.group),
        choice=_selected(ballot, "choice", ballot.choices.all(), dispute.choice),
        component=_selected(ballot, "component", ballot.version.components.leaves(), dispute.component),
        criterion=_selected(ballot, "criterion", ballot.criteria.all(), dispute.criterion),
    )
    return Status(201, raised)
