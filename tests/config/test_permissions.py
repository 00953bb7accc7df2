"""Who may see and do what: every URL of Plenary, as seven personas, against one table.

The rule (DESIGN.md): outsiders get 404 for what they may not see, 403 for what they may see but
not do; anyone who is not signed in is sent to sign in before anything is done. The personas:
an anonymous observer; carol, signed in but in no group; dave, a member of `corpora`, the other
group of the definition; bob, a member of `weights`; alice, its chair; oscar, who organizes
another definition; and olga, who organizes this one (`osd`).

The world (built once per test by `world`): version 0.0.9 is published and 0.0.10 is a draft in
progress, with a component and a discussion of its own; bob has commented on 0.0.9 and one of his
comments is hidden. Ballot `components` is open with live results, a veto grant, votes and a
dispute; `secret` is open and sealed until it closes; `closed` has closed, with its own grant and
dispute; `scheduled` has not opened. Oscar's definition `other` has the same kinds of things, so
that each id or key of his can be tried at an address of `osd`.

TABLE lists every route of config.urls by name; a route without an entry, or an entry without a
route, fails `test_every_route_has_an_entry_in_the_table`. admin/ and allauth's accounts/ are
Django's and allauth's own and stay out of the table (their CSRF protection is checked in
test_csrf.py). Each entry holds one or more cases: an address and what each persona gets on GET
and, where the route changes anything, on POST of data that the allowed persona's POST accepts.

What each status promises: a GET never writes; a refused POST (sent to sign in, 403, 404, 405, or
a form shown again with its error) writes nothing at all; DONE is a POST that was carried out and
recorded in the audit log. No page, file or API answer shows a persona a text it may not read
(SECRETS). An id or key that belongs to another definition, ballot or group, to a draft in
progress the persona cannot see, or to nothing, is a 404, never a 403, 200 or 500 (`guessed`
cases; every route that takes an integer id has some).
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audit.models import AuditEvent
from deliberation import services as deliberation
from tests.client import HTMX
from tests.factories import ComponentFactory, DefinitionFactory, DraftVersionFactory, UserFactory, WorkingGroupFactory
from tests.votes.conftest import CHOICES, CRITERIA
from votes import services as votes
from votes.models import Ballot

PERSONAS = ("anonymous", "carol", "dave", "bob", "alice", "oscar", "olga")

# Routes that are Django's or allauth's, not Plenary's: left out of the table, by address.
FOREIGN_PREFIXES = ("admin/", "accounts/")

# Texts that only some personas may read; nobody else may find them in any answer.
DRAFT_TEXT = "Unpublished wording of the draft"
DRAFT_COMPONENT = "Evaluation data described in the draft only"
DRAFT_COMMENT = "A note on the draft for the organizers"
HIDDEN_COMMENT = "Off topic remark that was hidden"
SEALED_RATIONALE = "Sealed rationale of dave"
OTHER_DRAFT_TEXT = "Unpublished wording of the other definition"
SECRETS = {
    DRAFT_TEXT: {"olga"},
    DRAFT_COMPONENT: {"olga"},
    DRAFT_COMMENT: {"olga"},
    HIDDEN_COMMENT: {"olga"},  # the moderation page still shows it to the organizers
    SEALED_RATIONALE: {"dave"},  # on his own grid, until the ballot closes
    OTHER_DRAFT_TEXT: {"oscar"},
}


@dataclass(frozen=True)
class Done:
    """A POST that was carried out: this status, and at least one new audit event."""

    status: int

    def __repr__(self) -> str:
        return f"done ({self.status})"


LOGIN = "sent to sign in"  # a redirect to the sign-in page, with `next` pointing back, and nothing written
DONE, DONE_HX = Done(302), Done(200)  # a plain form redirects; htmx gets the fragment back

#                  anonymous  carol  dave  bob    alice  oscar  olga
EVERYONE = (200,) * 7
HIDDEN = (404, 404, 404, 404, 404, 404, 200)  # a draft in progress: its organizers only
GONE = (404,) * 7  # an address that belongs to something else, or to nothing
SEALED = (403,) * 7  # public, but published when voting closes
ORGANIZERS = (LOGIN, 403, 403, 403, 403, 403, 200)
NOBODY = (LOGIN, 403, 403, 403, 403, 403, 403)  # a published version never changes
HIDDEN_FORM = (LOGIN, 404, 404, 404, 404, 404, 200)
GONE_FORM = (LOGIN, 404, 404, 404, 404, 404, 404)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405)
ORGANIZERS_DO = (LOGIN, 403, 403, 403, 403, 403, DONE)
HIDDEN_DO = (LOGIN, 404, 404, 404, 404, 404, DONE)
SIGNED_IN_DO = (LOGIN, DONE, DONE, DONE, DONE, DONE, DONE)
VOTERS = (LOGIN, 403, 200, 200, 200, 403, 403)  # members of a group enrolled in the ballot
VOTERS_DO = (LOGIN, 403, DONE, DONE, DONE, 403, 403)


@dataclass(frozen=True)
class Address:
    """A route by name, with its arguments; an argument that is a function of the world is resolved in it."""

    route: str
    args: tuple = ()
    kwargs: tuple = ()
    query: str = ""

    def __call__(self, w: SimpleNamespace) -> str:
        args = [a(w) if callable(a) else a for a in self.args]
        kwargs = {k: v(w) if callable(v) else v for k, v in self.kwargs}
        return reverse(self.route, args=args, kwargs=kwargs) + (f"?{self.query}" if self.query else "")


def at(route: str, *args, query: str = "") -> Address:
    return Address(route, args, query=query)


def api(name: str, **kwargs) -> Address:
    return Address(f"api:{name}", kwargs=tuple(kwargs.items()))


def pk(name: str) -> Callable[[SimpleNamespace], int]:
    """The id of one of the world's objects."""
    return lambda w: getattr(w, name).pk


@dataclass(frozen=True)
class Case:
    """One address of a route, and what each persona gets there."""

    path: Address
    get: tuple | None
    post: tuple | None = None
    data: dict | Callable[[SimpleNamespace], dict] = field(default_factory=dict)  # what a POST sends
    htmx: bool = False
    what: str = ""
    guessed: bool = False  # an id or key that is not this address's to give
    says: str = ""  # what every 200 here must say (why the persona sees no more)

    def form(self, w: SimpleNamespace) -> dict:
        return self.data(w) if callable(self.data) else self.data

    @property
    def route(self) -> str:
        return self.path.route

    def __str__(self) -> str:
        return f"{self.route}{' ' + self.what if self.what else ''}{' [htmx]' if self.htmx else ''}"


NO_SUCH_ID = 2**63  # no row has it: beyond any 64-bit id
D = "deliberation:"
V = "votes:"

CELL = {"component": "code", "criterion": "share", "choice": "required"}

TABLE: list[Case] = [
    # Definitions and versions ----------------------------------------------------------------
    Case(at(D + "definition-list"), EVERYONE),
    Case(at(D + "definition", "osd"), EVERYONE),
    Case(at(D + "definition", "nope"), GONE, what="of no definition", guessed=True),
    Case(at(D + "release-feed", "osd"), EVERYONE),
    Case(
        at(D + "diff", "osd", query="from=0.0.9&to=0.0.10"),
        EVERYONE,  # with a message for those who cannot see the draft, which it never shows them
        what="with the draft",
    ),
    Case(at(D + "version", "osd", "0.0.9"), EVERYONE, what="published"),
    Case(at(D + "version", "osd", "0.0.10"), HIDDEN, what="draft"),
    Case(at(D + "version", "osd", "2.0"), GONE, what="of another definition", guessed=True),
    Case(
        at(D + "draft-start", "osd"),
        POST_ONLY,
        # olga is refused with a message and nothing is written: a draft is already in progress
        (LOGIN, 403, 403, 403, 403, 403, 302),
        data={"from": "0.0.9", "label": "0.0.11"},
    ),
    Case(
        at(D + "draft-edit", "osd", "0.0.10"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"label": "0.0.10", "body": "Reworded."},
        what="draft",
    ),
    Case(
        at(D + "draft-edit", "osd", "0.0.9"),
        NOBODY,
        NOBODY,
        data={"label": "0.0.9", "body": "Rewritten history."},
        what="published",
    ),
    Case(
        at(D + "draft-edit", "other", "2.1"),
        (LOGIN, 404, 404, 404, 404, 200, 404),
        (LOGIN, 404, 404, 404, 404, DONE, 404),
        data={"label": "2.1", "body": "Reworded."},
        what="another definition's draft",
        guessed=True,
    ),
    Case(
        at(D + "publish", "osd", "0.0.10"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"release_notes": "Second release."},
        what="draft",
    ),
    Case(at(D + "publish", "osd", "0.0.9"), NOBODY, NOBODY, data={"release_notes": "Again."}, what="published"),
    # Components ------------------------------------------------------------------------------
    Case(at(D + "component", "osd", "0.0.9", "all-data"), EVERYONE, what="published"),
    Case(at(D + "component", "osd", "0.0.10", "draft-only"), HIDDEN, what="draft"),
    Case(
        at(D + "component", "osd", "0.0.9", "draft-only"), GONE, what="of the draft, asked of the release", guessed=True
    ),
    Case(
        at(D + "component-create", "osd", "0.0.10"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"key": "evals", "title": "Evaluations", "category": "Code", "description": ""},
        what="draft",
    ),
    Case(
        at(D + "component-create", "osd", "0.0.9"),
        NOBODY,
        NOBODY,
        data={"key": "evals", "title": "Evaluations", "category": "Code", "description": ""},
        what="published",
    ),
    Case(
        at(D + "component-edit", "osd", "0.0.10", "code"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"key": "code", "title": "All training code", "category": "Code", "description": ""},
        what="draft",
    ),
    Case(
        at(D + "component-edit", "osd", "0.0.9", "code"),
        NOBODY,
        NOBODY,
        data={"key": "code", "title": "All training code", "category": "Code", "description": ""},
        what="published",
    ),
    Case(at(D + "component-remove", "osd", "0.0.10", "code"), POST_ONLY, HIDDEN_DO),
    Case(at(D + "component-remove", "osd", "0.0.9", "code"), None, NOBODY, what="published"),
    # Comments --------------------------------------------------------------------------------
    Case(at(D + "comment-create", "osd", "0.0.9"), POST_ONLY, SIGNED_IN_DO, data={"body": "Agreed."}, what="published"),
    Case(
        at(D + "comment-create", "osd", "0.0.9"),
        None,
        (LOGIN, DONE_HX, DONE_HX, DONE_HX, DONE_HX, DONE_HX, DONE_HX),
        data={"body": "Agreed."},
        htmx=True,
        what="published",
    ),
    Case(at(D + "comment-create", "osd", "0.0.10"), None, HIDDEN_DO, data={"body": "Peek."}, what="draft"),
    Case(
        at(D + "comment-create", "osd", "0.0.10"),
        None,
        (LOGIN, 404, 404, 404, 404, 404, DONE_HX),
        data={"body": "Peek."},
        htmx=True,
        what="draft",
    ),
    Case(
        at(D + "component-comment-create", "osd", "0.0.9", "code"),
        POST_ONLY,
        SIGNED_IN_DO,
        data={"body": "Code first."},
        what="published",
    ),
    Case(
        at(D + "component-comment-create", "osd", "0.0.9", "code"),
        None,
        (LOGIN, DONE_HX, DONE_HX, DONE_HX, DONE_HX, DONE_HX, DONE_HX),
        data={"body": "Code first."},
        htmx=True,
        what="published",
    ),
    Case(
        at(D + "component-comment-create", "osd", "0.0.10", "draft-only"),
        None,
        HIDDEN_DO,
        data={"body": "Peek."},
        what="draft",
    ),
    Case(
        at(D + "comment-edit", pk("comment")),
        (LOGIN, 403, 403, 200, 403, 403, 403),  # its author only
        (LOGIN, 403, 403, DONE, 403, 403, 403),
        data={"body": "Training *code* must be required."},
        what="bob's",
    ),
    Case(
        at(D + "comment-edit", pk("hidden_comment")),
        NOBODY,  # not even its author: a hidden comment no longer changes
        NOBODY,
        data={"body": "Take two."},
        what="bob's, hidden",
    ),
    Case(
        at(D + "comment-edit", pk("draft_comment")),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"body": "Note to self, reworded."},
        what="olga's on the draft",
        guessed=True,
    ),
    Case(
        at(D + "comment-edit", pk("other_draft_comment")),
        (LOGIN, 404, 404, 404, 404, 200, 404),
        (LOGIN, 404, 404, 404, 404, DONE, 404),
        data={"body": "Reworded."},
        what="oscar's on his draft",
        guessed=True,
    ),
    Case(
        at(D + "comment-edit", NO_SUCH_ID),
        GONE_FORM,
        GONE_FORM,
        data={"body": "Hello?"},
        what="of no comment",
        guessed=True,
    ),
    Case(at(D + "comment-history", pk("comment")), EVERYONE, what="bob's"),
    Case(at(D + "comment-history", pk("hidden_comment")), EVERYONE, what="hidden", says="Hidden by @olga: Off topic."),
    Case(at(D + "comment-history", pk("draft_comment")), HIDDEN, what="on the draft", guessed=True),
    Case(
        at(D + "comment-history", pk("other_draft_comment")),
        (404, 404, 404, 404, 404, 200, 404),
        what="on another definition's draft",
        guessed=True,
    ),
    Case(at(D + "comment-history", NO_SUCH_ID), GONE, what="of no comment", guessed=True),
    Case(at(D + "comment-hide", pk("comment")), ORGANIZERS, ORGANIZERS_DO, data={"reason": "Off topic."}, what="bob's"),
    Case(
        at(D + "comment-hide", pk("hidden_comment")),
        ORGANIZERS,
        (LOGIN, 403, 403, 403, 403, 403, 200),  # olga is told it is hidden already
        data={"reason": "Again."},
        what="hidden",
    ),
    Case(
        at(D + "comment-hide", pk("draft_comment")),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"reason": "Stale."},
        what="on the draft",
        guessed=True,
    ),
    Case(
        at(D + "comment-hide", pk("other_draft_comment")),
        (LOGIN, 404, 404, 404, 404, 200, 404),
        (LOGIN, 404, 404, 404, 404, DONE, 404),
        data={"reason": "Stale."},
        what="on another definition's draft",
        guessed=True,
    ),
    Case(
        at(D + "comment-hide", NO_SUCH_ID),
        GONE_FORM,
        GONE_FORM,
        data={"reason": "Stale."},
        what="of no comment",
        guessed=True,
    ),
    # Working groups --------------------------------------------------------------------------
    Case(at(D + "group", "osd", "weights"), EVERYONE),
    Case(at(D + "group", "osd", "others"), GONE, what="of another definition", guessed=True),
    Case(
        at(D + "group-create", "osd"),
        ORGANIZERS,
        ORGANIZERS_DO,
        data={"key": "evals", "name": "Evaluations", "description": ""},
    ),
    Case(
        at(D + "member-add", "osd", "weights"),
        POST_ONLY,
        (LOGIN, 403, 403, 403, DONE, 403, DONE),  # its chair and the organizers
        data={"username": "carol", "role": "member"},
    ),
    Case(
        at(D + "member-add", "osd", "others"),
        None,
        GONE_FORM,
        data={"username": "carol", "role": "member"},
        what="to another definition's group",
        guessed=True,
    ),
    Case(
        at(D + "member-remove", "osd", "weights", pk("bobs_membership")),
        POST_ONLY,
        (LOGIN, 403, 403, 403, DONE, 403, DONE),
        what="bob",
    ),
    Case(
        at(D + "member-remove", "osd", "weights", pk("daves_membership")),
        None,
        GONE_FORM,
        what="dave, of corpora",
        guessed=True,
    ),
    Case(
        at(D + "member-remove", "osd", "weights", pk("former_membership")),
        None,
        GONE_FORM,
        what="erin, who has left",
        guessed=True,
    ),
    Case(
        at(D + "member-remove", "osd", "weights", pk("other_membership")),
        None,
        GONE_FORM,
        what="erin, of another definition's group",
        guessed=True,
    ),
    Case(at(D + "member-remove", "osd", "weights", NO_SUCH_ID), None, GONE_FORM, what="of no membership", guessed=True),
    # Ballots ---------------------------------------------------------------------------------
    Case(at(V + "ballot-list", "osd"), EVERYONE),
    Case(
        at(V + "ballot-create", "osd"),
        ORGANIZERS,
        ORGANIZERS_DO,
        data=lambda w: {
            "title": "Another look",
            "key": "another-look",
            "version": w.published.pk,
            "groups": [w.weights.pk],
            "criteria": "use Use",
            "choices": "yes | Yes | 1",
            "results_visibility": "live",
            "rule": "mean-bands",
            "bands": "1 Maybe",
            "otherwise": "No",
            "k": "2",
            "seed": "1",
        },
    ),
    Case(at(V + "ballot", "osd", "components"), EVERYONE, what="open"),
    Case(at(V + "ballot", "osd", "secret"), EVERYONE, what="sealed"),
    Case(at(V + "ballot", "osd", "elsewhere"), GONE, what="of another definition", guessed=True),
    Case(at(V + "ballot-open", "osd", "scheduled"), POST_ONLY, ORGANIZERS_DO),
    Case(at(V + "ballot-open", "osd", "elsewhere"), None, GONE_FORM, guessed=True),
    Case(at(V + "ballot-close", "osd", "components"), POST_ONLY, ORGANIZERS_DO),
    Case(at(V + "ballot-close", "osd", "elsewhere"), None, GONE_FORM, guessed=True),
    Case(at(V + "vote-grid", "osd", "components"), VOTERS, VOTERS_DO, data=CELL, what="open"),
    Case(
        at(V + "vote-grid", "osd", "components"),
        VOTERS,
        (LOGIN, 403, DONE_HX, DONE_HX, DONE_HX, 403, 403),
        data=CELL,
        htmx=True,
        what="open",
    ),
    Case(at(V + "vote-grid", "osd", "secret"), VOTERS, what="sealed"),
    Case(
        at(V + "vote-grid", "osd", "elsewhere"),
        GONE_FORM,
        GONE_FORM,
        data=CELL,
        what="of another definition",
        guessed=True,
    ),
    Case(
        at(V + "vote-grid-on-behalf", "osd", "components", "bob"),
        (LOGIN, 403, 403, 200, 403, 403, 200),  # bob's own, and the organizers on his behalf
        (LOGIN, 403, 403, DONE, 403, 403, DONE),
        data=CELL,
        what="for bob",
    ),
    Case(
        at(V + "vote-grid-on-behalf", "osd", "components", "bob"),
        (LOGIN, 403, 403, 200, 403, 403, 200),
        (LOGIN, 403, 403, DONE_HX, 403, 403, DONE_HX),
        data=CELL,
        htmx=True,
        what="for bob",
    ),
    Case(
        at(V + "vote-grid-on-behalf", "osd", "components", "nobody"),
        (LOGIN, 403, 403, 403, 403, 403, 404),
        what="for no one",
    ),
    Case(
        at(V + "vote-withdraw", "osd", "components", "code", "share"),
        VOTERS,  # it asks; the withdrawal is posted to the grid
        what="asks first",
    ),
    Case(at(V + "vote-withdraw", "osd", "elsewhere", "code", "share"), GONE_FORM, what="of another definition"),
    Case(
        at(V + "vote-withdraw-on-behalf", "osd", "components", "bob", "code", "share"),
        (LOGIN, 403, 403, 200, 403, 403, 200),
        what="for bob",
    ),
    Case(at(V + "roll-call", "osd", "components"), EVERYONE, what="open"),
    Case(
        at(V + "roll-call", "osd", "secret"),
        EVERYONE,
        what="sealed",
        says="The roll call of this ballot is published when voting closes.",
    ),
    Case(
        at(V + "grants", "osd", "components"),
        EVERYONE,
        ORGANIZERS_DO,
        data=lambda w: {"choice": w.components.choices.get(key="not-necessary").pk, "member": "dave", "reason": "Ok."},
    ),
    Case(
        at(V + "grant-revoke", "osd", "components", pk("grant")),
        POST_ONLY,
        ORGANIZERS_DO,
        data={"reason": "No longer needed."},
    ),
    Case(
        at(V + "grant-revoke", "osd", "components", pk("secret_grant")),
        None,
        GONE_FORM,
        data={"reason": "No longer needed."},
        what="of another ballot",
        guessed=True,
    ),
    Case(
        at(V + "grant-revoke", "osd", "components", pk("other_grant")),
        None,
        GONE_FORM,
        data={"reason": "No longer needed."},
        what="of another definition's ballot",
        guessed=True,
    ),
    Case(
        at(V + "grant-revoke", "osd", "components", NO_SUCH_ID),
        None,
        GONE_FORM,
        data={"reason": "No longer needed."},
        what="of no grant",
        guessed=True,
    ),
    Case(
        at(V + "disputes", "osd", "components"),
        EVERYONE,
        (LOGIN, 403, DONE, DONE, DONE, 403, DONE),  # members of the definition's groups, and its organizers
        data={"voter": "bob", "reason": "Cast by mistake."},
        what="open",
    ),
    Case(
        at(V + "disputes", "osd", "secret"),
        EVERYONE,
        (LOGIN, 403, 200, 200, 200, 403, 200),  # told to wait until the votes are published
        data={"voter": "dave", "reason": "Why?"},
        what="sealed",
        says="sealed until it closes",
    ),
    Case(
        at(V + "dispute-resolve", "osd", "components", pk("dispute")),
        POST_ONLY,
        ORGANIZERS_DO,
        data={"status": "dismissed", "resolution": "Nothing wrong."},
    ),
    Case(
        at(V + "dispute-resolve", "osd", "components", pk("closed_dispute")),
        None,
        GONE_FORM,
        data={"status": "dismissed", "resolution": "Nothing wrong."},
        what="of another ballot",
        guessed=True,
    ),
    Case(
        at(V + "dispute-resolve", "osd", "components", pk("other_dispute")),
        None,
        GONE_FORM,
        data={"status": "dismissed", "resolution": "Nothing wrong."},
        what="of another definition's ballot",
        guessed=True,
    ),
    Case(
        at(V + "dispute-resolve", "osd", "components", NO_SUCH_ID),
        None,
        GONE_FORM,
        data={"status": "dismissed", "resolution": "Nothing wrong."},
        what="of no dispute",
        guessed=True,
    ),
    # Results, downloads and the audit log ----------------------------------------------------
    Case(at("analysis:results", "osd", "components"), EVERYONE, what="open"),
    Case(at("analysis:results", "osd", "components"), EVERYONE, htmx=True, what="open"),
    Case(
        at("analysis:results", "osd", "secret"),
        EVERYONE,
        what="sealed",
        says="The results of this ballot are published when voting closes.",
    ),
    Case(at("analysis:tally-download", "osd", "components"), EVERYONE, what="open"),
    Case(at("analysis:tally-download", "osd", "closed"), EVERYONE, what="closed"),
    Case(at("analysis:tally-download", "osd", "secret"), SEALED, what="sealed"),
    Case(at("analysis:tally-download", "osd", "elsewhere"), GONE, what="of another definition", guessed=True),
    Case(at("analysis:tally-format"), EVERYONE),
    Case(at("analysis:verifier-download"), EVERYONE),
    Case(at("audit:log"), EVERYONE),
    # The JSON API, read-only, with the pages' visibility ---------------------------------------
    Case(api("api-root"), GONE),  # no docs page: it would load scripts from a CDN
    Case(api("openapi-json"), EVERYONE),
    Case(api("definition_list"), EVERYONE),
    Case(api("definition", slug="osd"), EVERYONE),
    Case(api("definition", slug="nope"), GONE, what="of no definition", guessed=True),
    Case(api("version_list", slug="osd"), EVERYONE),
    Case(api("version", slug="osd", label="0.0.9"), EVERYONE, what="published"),
    Case(api("version", slug="osd", label="0.0.10"), HIDDEN, what="draft"),
    Case(api("version", slug="osd", label="2.0"), GONE, what="of another definition", guessed=True),
    Case(api("component_list", slug="osd", label="0.0.9"), EVERYONE, what="published"),
    Case(api("component_list", slug="osd", label="0.0.10"), HIDDEN, what="draft"),
    Case(api("comment_list", slug="osd", label="0.0.9"), EVERYONE, what="published"),
    Case(api("comment_list", slug="osd", label="0.0.10"), HIDDEN, what="draft"),
    Case(
        api("comment_list", slug="other", label="2.1"),
        (404, 404, 404, 404, 404, 200, 404),
        what="another definition's draft",
        guessed=True,
    ),
    Case(api("group_list", slug="osd"), EVERYONE),
    Case(api("group", slug="osd", key="weights"), EVERYONE),
    Case(api("group", slug="osd", key="others"), GONE, what="of another definition", guessed=True),
    Case(api("ballot_list", slug="osd"), EVERYONE),
    Case(api("ballot", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("ballot", slug="osd", key="secret"), EVERYONE, what="sealed"),
    Case(api("ballot", slug="osd", key="elsewhere"), GONE, what="of another definition", guessed=True),
    Case(api("vote_list", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("vote_list", slug="osd", key="secret"), SEALED, what="sealed"),
    Case(api("grant_list", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("grant_list", slug="osd", key="secret"), EVERYONE, what="sealed"),
    Case(api("dispute_list", slug="osd", key="components"), EVERYONE),
    Case(api("outcomes", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("outcomes", slug="osd", key="secret"), SEALED, what="sealed"),
    Case(api("event_list"), EVERYONE),
]


# The world ----------------------------------------------------------------------------------------


def _ballot(version, key: str, groups: list, olga, **kwargs) -> Ballot:
    return votes.create_ballot(
        version=version,
        key=key,
        title=key.title(),
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
        **kwargs,
    )


def _vote(ballot: Ballot, voter, component: str, choice: str, rationale: str = "") -> None:
    votes.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key=choice),
        rationale=rationale,
    )


@pytest.fixture
def world(olga, alice, bob, carol, dave, published, draft, group, other_group) -> SimpleNamespace:
    """Everything the table visits; see the module's docstring."""
    oscar = UserFactory(username="oscar", first_name="Oscar", last_name="Elsewhere")
    erin = UserFactory(username="erin", first_name="Erin", last_name="Former")
    w = SimpleNamespace(published=published, draft=draft, weights=group, corpora=other_group)
    w.users = {"carol": carol, "dave": dave, "bob": bob, "alice": alice, "oscar": oscar, "olga": olga}

    # The draft in progress: its text, a component and a discussion only the organizers see.
    deliberation.update_draft(version=draft, label="0.0.10", body=DRAFT_TEXT, acting_user=olga)
    deliberation.add_component(
        version=draft,
        fields={"key": "draft-only", "title": "Evaluation data", "category": "Data", "description": DRAFT_COMPONENT},
        acting_user=olga,
    )
    w.draft_comment = deliberation.post_comment(author=olga, version=draft, body=DRAFT_COMMENT)
    w.comment = deliberation.post_comment(author=bob, version=published, body="Training *code* should be required.")
    w.hidden_comment = deliberation.post_comment(author=bob, version=published, body=HIDDEN_COMMENT)
    deliberation.hide_comment(comment=w.hidden_comment, reason="Off topic.", acting_user=olga)

    # The roster: erin was in weights once; bob and dave are in now.
    former = deliberation.add_member(group=group, user=erin, acting_user=olga)
    w.former_membership = deliberation.remove_member(membership=former, acting_user=olga)
    w.bobs_membership = group.memberships.current().get(user=bob)
    w.daves_membership = other_group.memberships.current().get(user=dave)

    # Ballots: open and live, sealed, closed, scheduled.
    w.components = votes.open_ballot(
        ballot=_ballot(published, "components", [group, other_group], olga), acting_user=olga
    )
    w.grant = votes.grant_veto(
        ballot=w.components,
        choice=w.components.choices.get(key="not-necessary"),
        group=group,
        reason="Charter §3.",
        acting_user=olga,
    )
    _vote(w.components, bob, "code", "required", "Nobody studies a model without its code.")
    _vote(w.components, alice, "data", "not-necessary")
    _vote(w.components, dave, "code", "abstain")
    w.dispute = votes.raise_dispute(
        ballot=w.components, raised_by=bob, reason="A veto in disguise.", voter=dave, group=other_group
    )

    w.secret = votes.open_ballot(
        ballot=_ballot(
            published, "secret", [group, other_group], olga, results_visibility=Ballot.Visibility.AFTER_CLOSE
        ),
        acting_user=olga,
    )
    w.secret_grant = votes.grant_veto(
        ballot=w.secret,
        choice=w.secret.choices.get(key="not-necessary"),
        member=alice,
        reason="Data steward.",
        acting_user=olga,
    )
    _vote(w.secret, dave, "code", "required", SEALED_RATIONALE)

    closed = votes.open_ballot(
        ballot=_ballot(published, "closed", [group], olga, results_visibility=Ballot.Visibility.AFTER_CLOSE),
        acting_user=olga,
    )
    _vote(closed, bob, "code", "required", "Code first.")
    closed = votes.close_ballot(ballot=closed, acting_user=olga)
    w.closed_dispute = votes.raise_dispute(ballot=closed, raised_by=alice, reason="Too quick.", voter=bob)
    _ballot(published, "scheduled", [group], olga)

    # Oscar's definition, whose ids and keys are tried at addresses of osd.
    other = DefinitionFactory(slug="other", title="Another Definition")
    other.organizers.add(oscar)
    release = DraftVersionFactory(definition=other, label="2.0")
    ComponentFactory(version=release, key="code", title="Code", category="Code")
    other_draft = deliberation.start_draft(definition=other, label="2.1", based_on=release, acting_user=oscar)
    deliberation.update_draft(version=other_draft, label="2.1", body=OTHER_DRAFT_TEXT, acting_user=oscar)
    w.other_draft_comment = deliberation.post_comment(author=oscar, version=other_draft, body="Mine.")
    others = WorkingGroupFactory(definition=other, key="others", name="Others")
    w.other_membership = deliberation.add_member(group=others, user=erin, acting_user=oscar)
    elsewhere = votes.open_ballot(
        ballot=votes.create_ballot(
            version=release,
            key="elsewhere",
            title="Elsewhere",
            groups=[others],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=oscar,
        ),
        acting_user=oscar,
    )
    w.other_grant = votes.grant_veto(
        ballot=elsewhere,
        choice=elsewhere.choices.get(key="not-necessary"),
        group=others,
        reason="Theirs.",
        acting_user=oscar,
    )
    _vote(elsewhere, erin, "code", "required")
    w.other_dispute = votes.raise_dispute(ballot=elsewhere, raised_by=erin, reason="Mine.", voter=erin)
    return w


# Visiting -----------------------------------------------------------------------------------------

WATCHED_TABLES = sorted(
    model._meta.db_table
    for label in ("audit", "deliberation", "votes", "analysis", "auth", "account")
    for model in apps.get_app_config(label).get_models(include_auto_created=True)
)


def snapshot() -> dict[str, list[tuple]]:
    """Every row Plenary keeps (sessions aside), to compare before and after a request."""
    rows = {}
    with connection.cursor() as cursor:
        for table in WATCHED_TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            rows[table] = cursor.fetchall()
    return rows


def body_of(response) -> str:
    """What the answer shows: its text, or the text of every file in a zip."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            content = b"\n".join(bundle.read(name) for name in bundle.namelist())
    return content.decode("utf-8", errors="replace")


def sent_to_sign_in(response) -> bool:
    """A redirect to the sign-in page that comes back here afterwards."""
    if response.status_code != 302:
        return False
    target = urlsplit(response["Location"])
    here = response.wsgi_request.get_full_path()
    return target.path == reverse("account_login") and parse_qs(target.query).get("next") == [here]


@dataclass(frozen=True)
class Sent:
    """A request and what it did: its answer (or the exception it raised), and the tables it changed."""

    response: HttpResponse | None
    error: Exception | None
    written: list[str]
    audited: int


def send(client: Client, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Sent:
    """Send one request and undo whatever it did, so that every request meets the same world."""
    with transaction.atomic():
        before = snapshot()
        response, error = None, None
        try:
            if method == "GET":
                response = client.get(path, headers=headers)
            else:
                response = client.post(path, data or {}, headers=headers)
        except Exception as exc:  # noqa: BLE001 - a 500 is a finding like any other
            error = exc
        after = snapshot() if error is None else before
        transaction.set_rollback(True)
    audit = AuditEvent._meta.db_table
    written = sorted(table for table in before if before[table] != after[table])
    return Sent(response, error, written, len(after[audit]) - len(before[audit]))


def judge(sent: Sent, expected, where: str, persona: str, says: str = "") -> list[str]:
    """What is wrong with an answer, if anything, given what the table expects."""
    if sent.error is not None:
        return [f"{where}: raised {sent.error!r}, expected {expected}"]
    response, problems = sent.response, []
    if expected == LOGIN:
        if not sent_to_sign_in(response):
            problems.append(f"{where}: {response.status_code}, expected to be sent to sign in")
    elif isinstance(expected, Done):
        if response.status_code != expected.status or sent.audited < 1:
            problems.append(f"{where}: {response.status_code} with {sent.audited} audit events, expected {expected}")
    elif response.status_code != expected:
        problems.append(f"{where}: {response.status_code}, expected {expected}")
    if sent.written and not isinstance(expected, Done):
        problems.append(f"{where}: wrote to {', '.join(sent.written)} though it was to do nothing")
    content = body_of(response)
    if says and response.status_code == 200 and says not in content:
        problems.append(f"{where}: does not say {says!r}")
    for text, readers in SECRETS.items():
        if persona not in readers and text in content:
            problems.append(f"{where}: shows {text!r}, which only {', '.join(sorted(readers))} may read")
    return problems


def visit(client: Client, w: SimpleNamespace, case: Case, persona: str, method: str, headers=None) -> list[str]:
    """Send one request of the table and return what is wrong with its answer, if anything."""
    expected = (case.get if method == "GET" else case.post)[PERSONAS.index(persona)]
    path = case.path(w)
    headers = (HTMX if case.htmx else {}) if headers is None else headers
    sent = send(client, method, path, case.form(w) if method == "POST" else None, headers)
    return judge(sent, expected, f"{method} {path} ({case}) as {persona}", persona, case.says)


def signed_in_client(persona: str, w: SimpleNamespace, **kwargs) -> Client:
    client = Client(**kwargs)
    if persona != "anonymous":
        client.force_login(w.users[persona])
    return client


# The rules --------------------------------------------------------------------------------------


def routes() -> list[tuple[str, str, Callable]]:
    """Every route of config.urls: its name (namespaced), its address and its view."""

    def walk(patterns, prefix: str = "", namespace: str = ""):
        for pattern in patterns:
            address = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, address, inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else f"(unnamed) {address}"
                yield name, address, pattern.callback

    return list(walk(get_resolver().url_patterns))


def plenary_routes() -> list[tuple[str, str]]:
    """Every (name, address) of config.urls but Django's admin and allauth's accounts."""
    return [(name, address) for name, address, _ in routes() if not address.startswith(FOREIGN_PREFIXES)]


def test_every_route_has_an_entry_in_the_table():
    names = [name for name, _ in plenary_routes()]
    assert len(names) == len(set(names)), "each route has a name of its own"

    assert set(names) - {c.route for c in TABLE} == set(), "routes with no entry in the table"
    assert {c.route for c in TABLE} - set(names) == set(), "entries in the table for no route"


def test_every_route_is_visited_with_get():
    assert {c.route for c in TABLE} == {c.route for c in TABLE if c.get is not None}


def test_every_route_that_takes_an_id_is_tried_with_ids_that_are_not_its_own():
    with_ids = {name for name, address in plenary_routes() if "<int:" in address}

    assert with_ids, "the routes that take an integer id"
    assert with_ids - {c.route for c in TABLE if c.guessed} == set()


def test_a_guessed_id_or_key_is_404_to_all_but_the_organizers_it_belongs_to():
    for case in (c for c in TABLE if c.guessed):
        for expected in (case.get, case.post):
            if expected is not None:
                allowed = {p for p, e in zip(PERSONAS, expected, strict=True) if e not in (404, LOGIN)}
                assert allowed <= {"olga"} or allowed <= {"oscar"}, case


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_url_answers_each_persona_as_the_table_says(persona, world):
    client = signed_in_client(persona, world)
    problems = []
    for case in TABLE:
        for method, expected in (("GET", case.get), ("POST", case.post)):
            if expected is not None:
                problems += visit(client, world, case, persona, method)

    assert problems == [], "\n".join(problems)


def test_the_admin_is_for_superusers_only(world):
    for persona in PERSONAS:
        response = signed_in_client(persona, world).get(reverse("admin:index"))

        assert response.status_code == 302, persona
        assert urlsplit(response["Location"]).path == reverse("admin:login"), persona

    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200
