"""Suggested changes to an open draft: made, supported, decided, consolidated, and carried into the next draft.

The text has 14 numbered lines; the definition drafts in the open, so bob and dave (members) see the draft.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Suggestion, Support

from .conftest import last_event

TEXT = "\n".join(f"Line {n} of the definition." for n in range(1, 15))


@pytest.fixture
def open_draft(definition, draft, olga):
    services.update_definition(
        definition=definition, title=definition.title, summary="", organizers=[olga], drafts_open=True, acting_user=olga
    )
    return services.update_draft(version=draft, label=draft.label, body=TEXT, acting_user=olga)


def suggest(version, author, first=12, last=12, replacement="Line twelve, reworded.", reason="Clearer."):
    return services.suggest_change(
        version=version, line_from=first, line_to=last, replacement=replacement, reason=reason, author=author
    )


def test_a_member_suggests_a_change_that_keeps_the_passage_as_it_read(open_draft, bob):
    s = suggest(open_draft, bob, 11, 12)

    assert (s.status, s.original) == ("pending", "Line 11 of the definition.\nLine 12 of the definition.")
    event = last_event()
    assert (event.action, event.actor_handle, event.payload) == (
        "suggestion.made",
        "bob",
        {"version": "0.0.10", "lines": [11, 12]},
    )


@pytest.mark.parametrize(("first", "last"), [(0, 1), (13, 15), (5, 4), (15, 15)])
def test_a_passage_outside_the_text_is_refused_and_nothing_is_written(open_draft, bob, first, last):
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        suggest(open_draft, bob, first, last)

    assert "outside the text" in str(refused.value) or "from a line to the same or a later" in str(refused.value)
    assert (Suggestion.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_a_suggestion_needs_a_reason_and_a_change(open_draft, bob):
    with pytest.raises(ValidationError, match="why"):
        suggest(open_draft, bob, reason=" ")
    with pytest.raises(ValidationError, match="reads as the passage does"):
        suggest(open_draft, bob, replacement="Line 12 of the definition.")
    with pytest.raises(ValidationError, match="at most"):
        suggest(open_draft, bob, replacement="x" * 20_001)
    assert not Suggestion.objects.exists()


def test_nobody_suggests_on_a_draft_they_cannot_see_nor_on_a_published_version(draft, published, bob, olga):
    services.update_draft(version=draft, label=draft.label, body=TEXT, acting_user=olga)
    with pytest.raises(PermissionDenied):
        suggest(draft, bob)  # a draft behind doors: the organizers only
    with pytest.raises(ValidationError, match="published"):
        suggest(published, bob, 1, 1)


def test_others_support_once_each_and_not_their_own(open_draft, bob, dave, alice):
    s = suggest(open_draft, bob)
    services.support_suggestion(suggestion=s, user=dave)
    services.support_suggestion(suggestion=s, user=alice)

    assert (last_event().action, last_event().payload["supporters"]) == ("suggestion.supported", 2)
    with pytest.raises(ValidationError, match="already support"):
        services.support_suggestion(suggestion=s, user=dave)
    with pytest.raises(ValidationError, match="own"):
        services.support_suggestion(suggestion=s, user=bob)
    assert Support.objects.filter(suggestion=s).count() == 2


def test_organizers_accept_and_decline_with_a_reason(open_draft, bob, dave, olga):
    accepted, declined = suggest(open_draft, bob), suggest(open_draft, dave, 3, 3, "Line three.")

    with pytest.raises(PermissionDenied):
        services.decide_suggestion(suggestion=accepted, accept=True, acting_user=dave)
    with pytest.raises(ValidationError, match="Say why"):
        services.decide_suggestion(suggestion=declined, accept=False, reason="", acting_user=olga)
    services.decide_suggestion(suggestion=accepted, accept=True, acting_user=olga)
    services.decide_suggestion(suggestion=declined, accept=False, reason="Out of scope.", acting_user=olga)

    declined.refresh_from_db()
    assert (declined.status, declined.decided_by, declined.decision_reason) == ("declined", olga, "Out of scope.")
    assert (last_event().action, last_event().payload["reason"]) == ("suggestion.declined", "Out of scope.")
    with pytest.raises(ValidationError, match="already accepted"):
        services.decide_suggestion(suggestion=accepted, accept=False, reason="Changed my mind.", acting_user=olga)


def test_consolidating_applies_every_accepted_suggestion_bottom_up_in_one_revision(open_draft, bob, dave, olga):
    two = suggest(open_draft, bob, 2, 3, "Lines two and three, now one.")
    twelve = suggest(open_draft, dave, 12, 12, "Line twelve.\nAnd a new line after it.")
    for s in (two, twelve):
        services.decide_suggestion(suggestion=s, accept=True, acting_user=olga)
    revisions = open_draft.revisions.count()

    services.consolidate_suggestions(version=open_draft, acting_user=olga)

    open_draft.refresh_from_db()
    lines = open_draft.body.splitlines()
    assert lines[1] == "Lines two and three, now one."
    assert lines[10:13] == ["Line twelve.", "And a new line after it.", "Line 13 of the definition."]
    assert open_draft.revisions.count() == revisions + 1
    two.refresh_from_db(), twelve.refresh_from_db()
    assert (two.applied_from, two.applied_to, twelve.applied_from, twelve.applied_to) == (2, 2, 11, 12)
    event = last_event()
    assert event.action == "suggestions.consolidated"
    assert [s["author"] for s in event.payload["suggestions"]] == ["bob", "dave"]
    assert AuditEvent.objects.filter(action="draft.edited", subject_id=str(open_draft.pk)).count() == 2


def test_consolidating_refuses_overlapping_accepted_suggestions_and_writes_nothing(open_draft, bob, dave, olga):
    for s in (suggest(open_draft, bob, 10, 12), suggest(open_draft, dave, 12, 13, "Other.")):
        services.decide_suggestion(suggestion=s, accept=True, acting_user=olga)
    events, body = AuditEvent.objects.count(), open_draft.body

    with pytest.raises(ValidationError, match="change the same lines"):
        services.consolidate_suggestions(version=open_draft, acting_user=olga)

    open_draft.refresh_from_db()
    assert (open_draft.body, AuditEvent.objects.count()) == (body, events)
    assert not Suggestion.objects.consolidated().exists()


def test_a_pending_suggestion_follows_its_passage_and_is_outdated_when_it_changes(open_draft, bob, dave, olga):
    follows = suggest(open_draft, bob, 12, 12)
    changed = suggest(open_draft, dave, 3, 3, "Line three.")
    body = open_draft.body.replace("Line 3 of the definition.", "Line 3, reworded by hand.")
    services.update_draft(version=open_draft, label=open_draft.label, body="Preamble.\n" + body, acting_user=olga)

    follows.refresh_from_db(), changed.refresh_from_db()
    assert (follows.status, follows.line_from, follows.line_to) == ("pending", 13, 13)
    assert changed.status == "outdated"
    assert last_event().payload == {
        "version": "0.0.10",
        "carried": [{"suggestion": follows.pk, "lines": [13, 13]}],
        "outdated": [changed.pk],
    }


def test_pending_suggestions_move_to_the_next_draft_and_the_release_never_changes(open_draft, bob, dave, olga):
    pending = suggest(open_draft, bob, 5, 6)
    accepted = suggest(open_draft, dave, 12, 12)
    services.decide_suggestion(suggestion=accepted, accept=True, acting_user=olga)
    services.consolidate_suggestions(version=open_draft, acting_user=olga)
    release = services.publish_version(version=open_draft, release_notes="Second.", acting_user=olga)
    body, html = release.body, release.body_html

    following = services.start_draft(definition=release.definition, label="0.0.11", based_on=release, acting_user=olga)

    pending.refresh_from_db(), accepted.refresh_from_db()
    assert (pending.version, pending.line_from, pending.status) == (following, 5, "pending")
    assert accepted.version == release  # what went into a release stays with it
    assert last_event().action == "suggestions.carried"
    release.refresh_from_db()
    assert (release.body, release.body_html) == (body, html)
    with pytest.raises(ValidationError, match="published"):
        services.consolidate_suggestions(version=release, acting_user=olga)


def test_a_comment_on_a_passage_keeps_the_lines_as_they_read(open_draft, bob, olga):
    comment = services.post_comment(author=bob, version=open_draft, body="Too vague.", lines=(4, 5))

    assert (comment.line_from, comment.line_to) == (4, 5)
    assert comment.passage == "Line 4 of the definition.\nLine 5 of the definition."
    assert last_event().payload["lines"] == [4, 5]
    with pytest.raises(ValidationError, match="outside the text"):
        services.post_comment(author=bob, version=open_draft, body="Beyond.", lines=(14, 20))
