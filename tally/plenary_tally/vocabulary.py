"""The audit log's vocabulary, named once: every action an event records, the streams events go in,
and which actions set or clear a voter's cell.

Plain Python with no dependency, like `chain.py`: the server records its events with these names
and the offline verifier replays a ballot's log with the same ones. docs/audit-log.md gives each
action's stream, subject and payload keys.
"""

from enum import StrEnum


class Action(StrEnum):
    """What an event says happened: `<what>.<what happened to it>`."""

    # In the definition's stream.
    DEFINITION_CREATED = "definition.created"
    DEFINITION_CHANGED = "definition.changed"
    ORGANIZER_ADDED = "organizer.added"
    ORGANIZER_REMOVED = "organizer.removed"
    DRAFT_STARTED = "draft.started"
    DRAFT_EDITED = "draft.edited"
    RELEASE_PUBLISHED = "release.published"
    COMPONENT_ADDED = "component.added"
    COMPONENT_CHANGED = "component.changed"
    COMPONENT_REMOVED = "component.removed"
    GROUP_CREATED = "group.created"
    JOIN_REQUESTED = "join.requested"
    JOIN_ACCEPTED = "join.accepted"
    JOIN_DECLINED = "join.declined"
    INVITATION_SENT = "invitation.sent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    COMMENT_POSTED = "comment.posted"
    COMMENT_EDITED = "comment.edited"
    COMMENT_HIDDEN = "comment.hidden"
    SUGGESTION_MADE = "suggestion.made"
    SUGGESTION_SUPPORTED = "suggestion.supported"
    SUGGESTION_ACCEPTED = "suggestion.accepted"
    SUGGESTION_DECLINED = "suggestion.declined"
    SUGGESTIONS_CONSOLIDATED = "suggestions.consolidated"
    SUGGESTIONS_CARRIED = "suggestions.carried"
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_CHANGED = "webhook.changed"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_REMOVED = "webhook.removed"
    # In the definition's stream and in that of each ballot not yet closed that enrolls the group.
    MEMBERSHIP_JOINED = "membership.joined"
    MEMBERSHIP_LEFT = "membership.left"
    GROUP_PROVIDER_CHANGED = "group.provider_changed"  # the sign-in provider its members vote with
    # In the ballot's stream.
    BALLOT_CREATED = "ballot.created"
    BALLOT_UPDATED = "ballot.updated"
    BALLOT_RESCHEDULED = "ballot.rescheduled"
    BALLOT_OPENED = "ballot.opened"
    BALLOT_CLOSED = "ballot.closed"
    BALLOT_SEALED_VOTES_READ = "ballot.sealed_votes_read"
    GRANT_MADE = "grant.made"
    GRANT_REVOKED = "grant.revoked"
    VOTE_CAST = "vote.cast"
    VOTE_CHANGED = "vote.changed"
    VOTE_CAST_ON_BEHALF = "vote.cast_on_behalf"
    VOTE_CARRIED = "vote.carried"
    VOTE_WITHDRAWN = "vote.withdrawn"
    DISPUTE_RAISED = "dispute.raised"
    DISPUTE_RESOLVED = "dispute.resolved"
    DECISION_RECORDED = "decision.recorded"
    OBJECTION_LODGED = "objection.lodged"
    OBJECTION_ANSWERED = "objection.answered"
    CONFLICT_DECLARED = "conflict.declared"
    CONFLICT_WITHDRAWN = "conflict.withdrawn"


# Replaying a ballot's stream in order gives exactly its current votes: each of these sets the
# (voter, component, criterion) cell its payload names, or clears it.
# (Tuples, not sets: a bundle's log may hold an action that is no string, and a set would refuse to look it up.)
SETS_THE_CELL = (Action.VOTE_CAST, Action.VOTE_CHANGED, Action.VOTE_CAST_ON_BEHALF, Action.VOTE_CARRIED)
CLEARS_THE_CELL = (Action.VOTE_WITHDRAWN,)
# The events that carry one vote's details: on a sealed ballot, these are what stays private until it closes.
VOTE_ACTIONS = SETS_THE_CELL + CLEARS_THE_CELL


def definition_stream(slug: str) -> str:
    """The chain of everything that happens to a definition outside its ballots."""
    return f"definition:{slug}"


def ballot_stream(slug: str, key: str) -> str:
    """The chain of every vote, grant, dispute, conflict of interest, phase and roster change of one ballot."""
    return f"ballot:{slug}/{key}"
