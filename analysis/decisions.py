"""The decision on the record, and formal objections to it: one function per write, each audited in its transaction.

When a ballot has closed, its organizers record what was decided, for each component or for the whole ballot,
citing the outcome run the decision rests on (its audit position and input digest) with their statement. A member
of the definition's working groups may lodge a formal objection to a decision that stands; the organizers answer
it on the record: overruled, with reasons, or upheld, which revises the decision by a new one that supersedes it.
Every step is an event in the ballot's audit stream (`decision.recorded`, `objection.lodged`,
`objection.answered`), and the ballot's tally bundle carries them all, for `plenary-tally --verify` to check.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent, lock_stream, record
from deliberation.models import Component, Membership
from notifications import webhooks
from notifications.models import Event
from plenary_tally.vocabulary import Action
from votes.models import Ballot

from . import reading, services
from .models import OUTCOME_MAX_LENGTH, STATEMENT_MAX_LENGTH, Decision, Objection, OutcomeRun

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


# Who may do what: the one gate of each write, which the pages ask too ------------------------------------


def may_decide(ballot: Ballot, user: "User | AnonymousUser") -> bool:
    """The definition's organizers record decisions and answer objections."""
    return user.is_authenticated and ballot.definition.is_organizer(user)


def may_object(ballot: Ballot, user: "User | AnonymousUser") -> bool:
    """Members of the definition's working groups lodge objections."""
    if not user.is_authenticated:
        return False
    return Membership.objects.current().filter(user=user, group__definition=ballot.definition).exists()


# Reading what a decision rests on ------------------------------------------------------------------------


def closed_position(ballot: Ballot) -> int | None:
    """The audit position of the ballot's `ballot.closed` event: a run at or after it read the final votes."""
    events = AuditEvent.objects.filter(stream=ballot.audit_stream, action=Action.BALLOT_CLOSED)
    return events.order_by("seq").values_list("seq", flat=True).first()


def present_digest(ballot: Ballot) -> str:
    """The input digest a run of the ballot as it stands now would have."""
    spec = services.ballot_spec(ballot)
    return services.digest(spec, reading.read(ballot, spec).cells)


def citable_run(ballot: Ballot) -> OutcomeRun | None:
    """The latest run, if a decision may rest on it now: it read the closed ballot, and exactly its present inputs."""
    closed_at = closed_position(ballot)
    run = OutcomeRun.objects.latest_for(ballot)
    if closed_at is None or run is None or run.audit_seq < closed_at or run.input_digest != present_digest(ballot):
        return None
    return run


def outcome_in(run: OutcomeRun, component: Component | None) -> str:
    """The outcome the run gives the component in the `all` scenario (what the form offers), or ''."""
    if component is None:
        return ""
    scenarios = run.results.get("scenarios") or [{}]
    for row in scenarios[0].get("components", []):
        if row.get("key") == component.key:
            return str(row.get("outcome") or "")
    return ""


# Checks every write makes -----------------------------------------------------------------------------------


def _text(value: str, *, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(
            gettext("Write %(what)s; it is published on the ballot and in its audit log.") % {"what": what}
        )
    if len(value) > limit:
        raise ValidationError(
            gettext("%(what)s can be at most %(limit)s characters long; this one has %(count)s.")
            % {"what": what.capitalize(), "limit": limit, "count": len(value)}
        )
    return value


def _locked(ballot: Ballot) -> Ballot:
    """Take the ballot's place in its audit stream, then read it as it stands."""
    lock_stream(ballot.audit_stream)
    return Ballot.objects.select_related("definition", "version").get(pk=ballot.pk)


def _require_organizer(ballot: Ballot, user: "User") -> None:
    if not may_decide(ballot, user):
        raise PermissionDenied(gettext("Only the definition's organizers record decisions and answer objections."))


def _check_run(ballot: Ballot, run: OutcomeRun | None) -> OutcomeRun:
    """The run cited, or the latest: a run of this ballot that read it closed, with its present inputs."""
    if run is None:
        run = citable_run(ballot)
        if run is None:
            raise ValidationError(
                gettext(
                    "There is no run to rest the decision on yet: the outcomes of the closed ballot are being "
                    "computed; "
                    "try again in a moment."
                )
            )
        return run
    if run.ballot_id != ballot.pk:
        raise ValidationError(gettext("That outcome run is not a run of this ballot."))
    closed_at = closed_position(ballot)
    if closed_at is None or run.audit_seq < closed_at:
        raise ValidationError(
            gettext("That outcome run read the ballot before it closed; cite a run of its final votes.")
        )
    if run.input_digest != present_digest(ballot):
        raise ValidationError(
            gettext(
                "The ballot's votes or disputes have changed since that run; cite the latest run, which reads them."
            )
        )
    return run


def _record(
    *,
    ballot: Ballot,
    component: Component | None,
    outcome: str,
    statement: str,
    run: OutcomeRun,
    acting_user: "User",
) -> Decision:
    standing = ballot.decisions.current().filter(component=component).first()
    decision = Decision.objects.create(
        ballot=ballot,
        number=ballot.decisions.count() + 1,
        component=component,
        outcome=outcome,
        statement=statement,
        run=run,
        audit_seq=run.audit_seq,
        input_digest=run.input_digest,
        supersedes=standing,
        recorded_by=acting_user,
    )
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.DECISION_RECORDED,
        subject=decision,
        payload=decision.as_recorded(),
    )
    recorded = decision.as_recorded() | {"recorded_by": acting_user.get_username()}
    webhooks.emit(ballot.definition, Event.DECISION_RECORDED, {"ballot": ballot.as_announced(), "decision": recorded})
    return decision


# The writes -----------------------------------------------------------------------------------------------


@transaction.atomic
def record_decision(
    *,
    ballot: Ballot,
    component: Component | None,
    outcome: str,
    statement: str,
    acting_user: "User",
    run: OutcomeRun | None = None,
) -> Decision:
    """Record what was decided on a closed ballot, for a component (None: the whole ballot), and why.

    It cites `run`, by default the latest run, which must have read the closed ballot as it stands. A decision
    already standing for the same component (or for the ballot) is superseded by this one.
    """
    ballot = _locked(ballot)
    _require_organizer(ballot, acting_user)
    if ballot.status != Ballot.Status.CLOSED:
        raise ValidationError(gettext("A decision is recorded once the ballot has closed."))
    if component is not None and component.version_id != ballot.version_id:
        raise ValidationError(gettext("That component is not part of the version this ballot is on."))
    outcome = _text(outcome, what="what was decided", limit=OUTCOME_MAX_LENGTH)
    statement = _text(statement, what="the statement", limit=STATEMENT_MAX_LENGTH)
    run = _check_run(ballot, run)
    return _record(
        ballot=ballot, component=component, outcome=outcome, statement=statement, run=run, acting_user=acting_user
    )


@transaction.atomic
def lodge_objection(*, decision: Decision, member: "User", reasoning: str) -> Objection:
    """A member's formal objection to a decision that stands, with their reasoning, public."""
    ballot = _locked(decision.ballot)
    decision = Decision.objects.select_related("supersedes").get(pk=decision.pk)
    if not may_object(ballot, member):
        raise PermissionDenied(gettext("Only members of the definition's working groups lodge objections."))
    if not decision.is_current:
        raise ValidationError(
            gettext("Decision %(number)s has been revised; object to the decision that stands.")
            % {"number": decision.number}
        )
    reasoning = _text(reasoning, what="your reasoning", limit=STATEMENT_MAX_LENGTH)
    if decision.objections.open().filter(member=member).exists():
        raise ValidationError(
            gettext("Your objection to decision %(number)s awaits its answer already.") % {"number": decision.number}
        )
    objection = Objection.objects.create(decision=decision, member=member, reasoning=reasoning)
    record(
        stream=ballot.audit_stream,
        actor=member,
        action=Action.OBJECTION_LODGED,
        subject=objection,
        payload=objection.as_recorded(),
    )
    return objection


@transaction.atomic
def answer_objection(
    *,
    objection: Objection,
    answer: str,
    reason: str,
    acting_user: "User",
    outcome: str = "",
    statement: str = "",
) -> tuple[Objection, Decision | None]:
    """Answer an objection on the record: overruled, with reasons; or upheld, revising the decision.

    Upheld records the revised decision (`outcome`, and `statement`, by default the reason) in the same
    transaction, right after the answer: it cites the latest run and supersedes the decision objected to.
    Returns the objection and the revised decision (None when overruled).
    """
    decision = objection.decision
    ballot = _locked(decision.ballot)
    _require_organizer(ballot, acting_user)
    objection = Objection.objects.select_related("decision__component", "decision__supersedes", "member").get(
        pk=objection.pk
    )
    decision = objection.decision
    if objection.answer:
        raise ValidationError(
            gettext("This objection has been answered already: %(value)s.")
            % {"value": objection.get_answer_display().lower()}
        )
    if answer not in Objection.Answer.values:
        raise ValidationError(gettext("An objection is answered as upheld or overruled."))
    reason = _text(reason, what="the reasons for the answer", limit=STATEMENT_MAX_LENGTH)
    revised = None
    if answer == Objection.Answer.UPHELD:
        if not decision.is_current:
            raise ValidationError(
                gettext("Decision %(number)s has been revised already; it cannot be upheld against.")
                % {"number": decision.number}
            )
        outcome = _text(outcome, what="the revised decision", limit=OUTCOME_MAX_LENGTH)
        statement = _text(statement or reason, what="the statement", limit=STATEMENT_MAX_LENGTH)
        run = _check_run(ballot, None)
    objection.answer, objection.answer_reason = answer, reason
    objection.answered_by, objection.answered_at = acting_user, timezone.now()
    objection.save(update_fields=["answer", "answer_reason", "answered_by", "answered_at"])
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.OBJECTION_ANSWERED,
        subject=objection,
        payload=objection.as_recorded(),
    )
    if answer == Objection.Answer.UPHELD:
        revised = _record(
            ballot=ballot,
            component=decision.component,
            outcome=outcome,
            statement=statement,
            run=run,
            acting_user=acting_user,
        )
    return objection, revised
