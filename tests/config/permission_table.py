"""Who may see and do what: every URL of Plenary, as seven personas, in one table; test_permissions.py
visits it and test_csrf.py posts to it.

The rule (DESIGN.md): outsiders get 404 for what they may not see, 403 for what they may see but
not do; anyone who is not signed in is sent to sign in before anything is done. The personas:
an anonymous observer; carol, signed in but in no group; dave, a member of `corpora`, the other
group of the definition; bob, a member of `weights`; alice, its chair; oscar, who organizes
another definition; and olga, who organizes this one (`osd`).

TABLE lists every route of config.urls by name; a route without an entry, or an entry without a
route, fails `test_every_route_has_an_entry_in_the_table` (test_permissions.py). admin/ and
allauth's accounts/ are Django's and allauth's own and stay out of the table (their CSRF
protection is checked in test_csrf.py). Each entry holds one or more cases: an address and what each persona gets on GET
and, where the route changes anything, on POST of data that the allowed persona's POST accepts.

What each status promises: a GET never writes; a refused POST (sent to sign in, 403, 404, 405, or
a form shown again with its error) writes nothing at all; DONE is a POST that was carried out and
recorded in the audit log; SAVED, one carried out that changes only the persona's own setting (their
calendar address, their API tokens), which the audit log does not record, as it records no account's settings. No page,
file or API answer shows a persona a text it may not read (SECRETS). An id or key that belongs to
another definition, ballot or group, to a draft in progress the persona cannot see, or to nothing,
is a 404, never a 403, 200 or 500 (`guessed` cases; every route that takes an integer id has some).

"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlencode

from django.urls import reverse

from deliberation.models import DraftVersion
from deliberation.services import version_digest
from notifications.models import FIXED, Kind
from tests.votes.conftest import CHOICES, CRITERIA
from tests.votes.pages import ballot_rows

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
WEBHOOK_SECRET = "whsec_olgas-webhook-secret-shown-once-only"
WEBHOOK_TOKEN = "receivers-own-token-in-the-address"
WEBHOOK_URL = f"https://93.184.215.14/hooks/plenary?token={WEBHOOK_TOKEN}"  # a public address, no DNS needed
SECRETS = {
    DRAFT_TEXT: {"olga"},
    DRAFT_COMPONENT: {"olga"},
    DRAFT_COMMENT: {"olga"},
    HIDDEN_COMMENT: {"olga"},  # the moderation page still shows it to the organizers
    SEALED_RATIONALE: {"dave"},  # on his own grid, until the ballot closes
    OTHER_DRAFT_TEXT: {"oscar"},
    WEBHOOK_SECRET: set(),  # shown on the answer that made it, never again, to anyone
    WEBHOOK_TOKEN: {"olga"},  # the webhook's address, on its organizers' pages only (the audit log names its host)
}
# The query string that searches for each secret by its words (split at spaces and hyphens), all of them, last first:
# never the secret itself, which a page that repeats the query would show.
SEARCH_FOR = {secret: urlencode({"q": " ".join(reversed(re.split(r"[\s-]+", secret)))}) for secret in SECRETS}


@dataclass(frozen=True)
class Done:
    """A POST that was carried out: this status, and at least one new audit event (or, not `audited`, none)."""

    status: int
    audited: bool = True

    def __repr__(self) -> str:
        return f"done ({self.status})" if self.audited else f"saved, unaudited ({self.status})"


LOGIN = "sent to sign in"  # a redirect to the sign-in page, with `next` pointing back, and nothing written
DONE, DONE_HX = Done(302), Done(200)  # a plain form redirects; htmx gets the fragment back
SAVED, SAVED_SHOWN = Done(302, audited=False), Done(200, audited=False)  # a person's own setting

#                  anonymous  carol  dave  bob    alice  oscar  olga
EVERYONE = (200,) * 7
HIDDEN = (404, 404, 404, 404, 404, 404, 200)  # a draft in progress: its organizers only
HIDDEN_OTHER = (404, 404, 404, 404, 404, 200, 404)  # oscar's draft in progress, asked at an address of his
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
ROSTER_MANAGERS = (LOGIN, 403, 403, 403, 200, 403, 200)  # the group's chair and the organizers
ROSTER_MANAGERS_DO = (LOGIN, 403, 403, 403, DONE, 403, DONE)
SIGNED_IN = (LOGIN, 200, 200, 200, 200, 200, 200)
VOTERS = (LOGIN, 403, 200, 200, 200, 403, 403)  # members of a group enrolled in the ballot
VOTERS_DO = (LOGIN, 403, DONE, DONE, DONE, 403, 403)
# A person's own setting (following a definition): carried out, but no event of the public log, and kept in a
# table of the notifications app, which `snapshot` does not watch.
SIGNED_IN_OWN = (LOGIN,) + (SAVED,) * 6  # a setting of their own: saved, not audited
# A definition's webhooks: the list and the form at the public definition's address refuse (403); a webhook itself
# and its deliveries are not to be seen (404). A new secret is shown on the answer that makes it (200, no redirect).
# A redelivery changes nothing of the definition, so it is queued, not audited: the delivery log says who asked.
SECRET_SHOWN = Done(200)
WEBHOOK_SHOWN_DO = (LOGIN, 404, 404, 404, 404, 404, SECRET_SHOWN)
QUEUED = Done(302, audited=False)
# The JSON API's writes, with the browser's session (test_token_permissions.py sends each with tokens): nobody is
# sent to sign in, the anonymous are a 401; what is done answers 200 (a vote), 201 (what is created) or 204.
UNSIGNED = 401
API_DONE, API_MADE, API_GONE = Done(200), Done(201), Done(204)
API_VOTERS_DO = (UNSIGNED, 403, API_DONE, API_DONE, API_DONE, 403, 403)
API_SIGNED_IN_DO = (UNSIGNED,) + (API_MADE,) * 6
API_NOT_ALLOWED = (405,) * 7  # a write's address, asked with GET


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


def _fresh(version: DraftVersion) -> DraftVersion:
    """The version as it stands in the database now, as the page a persona opens shows it."""
    return DraftVersion.objects.get(pk=version.pk)


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
    Case(at("home:home"), EVERYONE, what="the definitions; what needs them, for the signed in"),
    # Django's set_language: anyone chooses the language of the pages; it is kept in a cookie, no row is written, and
    # both a GET and a POST redirect back (a GET only redirects).
    Case(
        at("set_language"),
        (302,) * 7,
        (302,) * 7,
        data={"language": "en", "next": "/"},  # English, the default: the client keeps the cookie for what follows
        what="the footer's language switcher",
    ),
    Case(at(D + "definition-list"), EVERYONE),
    Case(at(D + "definition", "osd"), EVERYONE),
    Case(at(D + "definition", "nope"), GONE, what="of no definition", guessed=True),
    Case(
        at(D + "definition-create"),
        SIGNED_IN,  # every persona's address is verified, and DEFINITION_CREATORS is "verified" by default
        SIGNED_IN_DO,
        data={"title": "A new definition", "slug": "a-new-one", "summary": ""},
    ),
    Case(at(D + "organizer-add", "osd"), POST_ONLY, ORGANIZERS_DO, data={"username": "carol"}),
    Case(at(D + "organizer-remove", "osd", pk("otto")), POST_ONLY, ORGANIZERS_DO, what="otto"),
    Case(
        at(D + "organizer-remove", "osd", pk("oscar")),
        None,
        GONE_FORM,
        what="oscar, who organizes another definition",
        guessed=True,
    ),
    Case(at(D + "organizer-remove", "osd", NO_SUCH_ID), None, GONE_FORM, what="of nobody", guessed=True),
    Case(at(D + "definition-follow", "osd"), POST_ONLY, SIGNED_IN_OWN),
    Case(at(D + "definition-follow", "nope"), None, GONE_FORM, what="of no definition"),
    Case(at(D + "definition-unfollow", "osd"), POST_ONLY, SIGNED_IN_OWN),
    Case(at(D + "definition-unfollow", "nope"), None, GONE_FORM, what="of no definition"),
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
        data=lambda w: {"label": "0.0.10", "body": "Reworded.", "revision": w.draft.current_revision().number},
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
        data=lambda w: {"label": "2.1", "body": "Reworded.", "revision": w.other_draft.current_revision().number},
        what="another definition's draft",
        guessed=True,
    ),
    Case(
        at(D + "publish", "osd", "0.0.10"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data=lambda w: {"release_notes": "Second release.", "reviewed": version_digest(_fresh(w.draft))},
        what="draft",
    ),
    Case(at(D + "publish", "osd", "0.0.9"), NOBODY, NOBODY, data={"release_notes": "Again."}, what="published"),
    Case(at(D + "revisions", "osd", "0.0.9"), EVERYONE, what="published"),
    Case(at(D + "revisions", "osd", "0.0.10", query="from=1&to=2"), HIDDEN, what="draft, two compared"),
    Case(at(D + "revisions", "other", "2.1"), HIDDEN_OTHER, what="another definition's draft", guessed=True),
    Case(at(D + "revision", "osd", "0.0.9", 1), EVERYONE, what="published"),
    Case(at(D + "revision", "osd", "0.0.10", 2), HIDDEN, what="draft"),
    Case(at(D + "revision", "osd", "0.0.9", 2), GONE, what="of the draft, asked of the release", guessed=True),
    Case(at(D + "revision", "osd", "0.0.9", NO_SUCH_ID), GONE, what="of no revision", guessed=True),
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
    # Passages and suggested changes: `suggestion` (otto's, pending) and `accepted_suggestion` on the draft ---------
    Case(
        at(D + "comment-create", "osd", "0.0.9"),
        None,
        SIGNED_IN_DO,
        data={"body": "On the first line.", "line_from": "1", "line_to": "1"},
        what="on a passage of the published text",
    ),
    Case(
        at(D + "comment-create", "osd", "0.0.9"),
        None,
        (LOGIN, 302, 302, 302, 302, 302, 302),  # sent back with the refusal; nothing written
        data={"body": "Beyond.", "line_from": "90", "line_to": "99"},
        what="on a passage outside the text",
    ),
    Case(
        at(D + "suggestion-create", "osd", "0.0.10", query="from=1&to=1"),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"line_from": "1", "line_to": "1", "replacement": "Other wording.", "reason": "Clearer."},
        what="draft",
    ),
    Case(
        at(D + "suggestion-create", "osd", "0.0.9"),
        NOBODY,
        NOBODY,
        data={"line_from": "1", "line_to": "1", "replacement": "Other wording.", "reason": "Clearer."},
        what="published",
    ),
    Case(
        at(D + "suggestion-create", "other", "2.1"),
        (LOGIN, 404, 404, 404, 404, 200, 404),
        (LOGIN, 404, 404, 404, 404, DONE, 404),
        data={"line_from": "1", "line_to": "1", "replacement": "Other wording.", "reason": "Clearer."},
        what="another definition's draft",
        guessed=True,
    ),
    Case(at(D + "suggestion", "osd", pk("suggestion")), HIDDEN, what="on the draft"),
    Case(at(D + "suggestion", "osd", pk("other_suggestion")), GONE, what="of another definition", guessed=True),
    Case(at(D + "suggestion", "osd", NO_SUCH_ID), GONE, what="of no suggestion", guessed=True),
    Case(at(D + "suggestion-support", "osd", pk("suggestion")), POST_ONLY, HIDDEN_DO, what="otto's"),
    Case(
        at(D + "suggestion-support", "osd", pk("other_suggestion")),
        None,
        GONE_FORM,
        what="of another definition",
        guessed=True,
    ),
    Case(
        at(D + "suggestion-decide", "osd", pk("suggestion")),
        POST_ONLY,
        HIDDEN_DO,
        data={"decision": "decline", "reason": "Not now."},
        what="otto's",
    ),
    Case(
        at(D + "suggestion-decide", "osd", pk("other_suggestion")),
        None,
        GONE_FORM,
        data={"decision": "accept"},
        what="of another definition",
        guessed=True,
    ),
    Case(at(D + "suggestion-decide", "osd", NO_SUCH_ID), None, GONE_FORM, data={"decision": "accept"}, guessed=True),
    Case(at(D + "consolidate", "osd", "0.0.10"), POST_ONLY, HIDDEN_DO, what="draft"),
    Case(at(D + "consolidate", "osd", "0.0.9"), None, NOBODY, what="published"),
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
        at(D + "group-provider", "osd", "weights"),
        POST_ONLY,
        ORGANIZERS_DO,  # the sign-in provider its members vote with (tests/config/conftest.py offers GitHub)
        data={"provider": "github"},
    ),
    Case(
        at(D + "group-provider", "osd", "others"),
        None,
        GONE_FORM,
        data={"provider": "github"},
        what="of another definition's group",
        guessed=True,
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
        ROSTER_MANAGERS,  # the confirmation, with what becomes of bob's votes
        ROSTER_MANAGERS_DO,
        what="bob",
    ),
    Case(
        at(D + "member-remove", "osd", "weights", pk("alices_membership")),
        (LOGIN, 403, 403, 403, 403, 403, 200),
        (LOGIN, 403, 403, 403, 403, 403, DONE),
        what="alice, the chair: only organizers remove a chair",
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
    Case(
        at(D + "members-bulk", "osd", "weights"),
        ROSTER_MANAGERS,
        (LOGIN, 403, 403, 403, Done(200), 403, Done(200)),  # the page shows what became of each line
        data={"lines": "carol\nnew@example.org", "role": "member"},
    ),
    Case(
        at(D + "members-bulk", "osd", "others"),
        GONE_FORM,
        GONE_FORM,
        data={"lines": "carol", "role": "member"},
        what="of another definition's group",
        guessed=True,
    ),
    Case(
        at(D + "join-request", "osd", "weights"),
        POST_ONLY,
        (LOGIN, DONE, DONE, 302, 302, DONE, DONE),  # bob and alice are told they are members already
        data={"note": "I work on model weights."},
    ),
    Case(at(D + "join-request", "osd", "others"), None, GONE_FORM, what="to another definition's group", guessed=True),
    Case(
        at(D + "join-decide", "osd", "weights", pk("join_request")),
        POST_ONLY,
        ROSTER_MANAGERS_DO,
        data={"decision": "decline", "reason": "Not this round."},
        what="erin's",
    ),
    Case(
        at(D + "join-decide", "osd", "weights", pk("other_join_request")),
        None,
        GONE_FORM,
        data={"decision": "accept", "reason": ""},
        what="of another definition's group",
        guessed=True,
    ),
    Case(
        at(D + "join-decide", "osd", "weights", NO_SUCH_ID),
        None,
        GONE_FORM,
        data={"decision": "accept", "reason": ""},
        what="of no request",
        guessed=True,
    ),
    Case(
        at(D + "invitation-create", "osd", "weights"),
        POST_ONLY,
        ROSTER_MANAGERS_DO,
        data={"email": "new@example.org", "role": "member"},
    ),
    Case(
        at(D + "invitation-create", "osd", "others"),
        None,
        GONE_FORM,
        data={"email": "new@example.org", "role": "member"},
        what="to another definition's group",
        guessed=True,
    ),
    Case(at(D + "invitation-revoke", "osd", "weights", pk("invitation")), POST_ONLY, ROSTER_MANAGERS_DO),
    Case(
        at(D + "invitation-revoke", "osd", "weights", pk("other_invitation")),
        None,
        GONE_FORM,
        what="of another definition's group",
        guessed=True,
    ),
    Case(at(D + "invitation-revoke", "osd", "weights", NO_SUCH_ID), None, GONE_FORM, what="of nothing", guessed=True),
    Case(
        at(D + "invitation", lambda w: w.carols_token),
        EVERYONE,  # whoever holds the link reads whom it invites
        (LOGIN, DONE, 403, 403, 403, 403, 403),  # only an account with the invited address joins
        what="of carol's address",
    ),
    Case(
        at(D + "invitation", lambda w: w.revoked_token),
        EVERYONE,
        (LOGIN, 200, 200, 200, 200, 200, 200),  # says it is revoked; nothing happens
        what="revoked",
    ),
    Case(at(D + "invitation", "not-a-token"), GONE, GONE, what="of no invitation", guessed=True),
    # A person's calendar address: made on their page, shown once on the answer; bob has one.
    Case(at(D + "calendar"), SIGNED_IN),
    Case(at(D + "calendar-create"), POST_ONLY, (LOGIN,) + (SAVED_SHOWN,) * 6),
    Case(at(D + "calendar-revoke"), POST_ONLY, (LOGIN, 302, 302, SAVED, 302, 302, 302)),  # nothing to revoke but bob's
    # A definition's webhooks: olga's, with a failed delivery; oscar's, of his definition, tried at osd's addresses.
    Case(at(D + "webhook-list", "osd"), ORGANIZERS),
    Case(at(D + "webhook-list", "nope"), GONE_FORM, what="of no definition", guessed=True),
    Case(
        at(D + "webhook-create", "osd"),
        ORGANIZERS,
        (LOGIN, 403, 403, 403, 403, 403, SECRET_SHOWN),
        data={"url": "https://93.184.215.14/another", "events": ["ballot.closed"], "active": "on"},
    ),
    Case(
        at(D + "webhook", "osd", pk("webhook")),
        HIDDEN_FORM,
        HIDDEN_DO,
        data={"url": WEBHOOK_URL, "events": ["ballot.closed"]},  # turned off, and told of closings only
        what="olga's",
    ),
    Case(at(D + "webhook", "osd", pk("other_webhook")), GONE_FORM, GONE_FORM, what="oscar's", guessed=True),
    Case(at(D + "webhook", "osd", NO_SUCH_ID), GONE_FORM, what="of nothing", guessed=True),
    Case(at(D + "webhook-rotate", "osd", pk("webhook")), POST_ONLY, WEBHOOK_SHOWN_DO, what="olga's"),
    Case(at(D + "webhook-rotate", "osd", pk("other_webhook")), None, GONE_FORM, what="oscar's", guessed=True),
    Case(at(D + "webhook-delete", "osd", pk("webhook")), HIDDEN_FORM, HIDDEN_DO, what="olga's"),
    Case(at(D + "webhook-delete", "osd", pk("other_webhook")), GONE_FORM, GONE_FORM, what="oscar's", guessed=True),
    Case(at(D + "webhook-delivery", "osd", pk("webhook"), pk("delivery")), HIDDEN_FORM, what="olga's"),
    Case(
        at(D + "webhook-delivery", "osd", pk("webhook"), pk("other_delivery")),
        GONE_FORM,
        what="oscar's, at olga's webhook",
        guessed=True,
    ),
    Case(
        at(D + "webhook-redeliver", "osd", pk("webhook"), pk("delivery")),
        POST_ONLY,
        (LOGIN, 404, 404, 404, 404, 404, QUEUED),
        what="olga's, failed",
    ),
    Case(
        at(D + "webhook-redeliver", "osd", pk("webhook"), pk("other_delivery")),
        None,
        GONE_FORM,
        what="oscar's, at olga's webhook",
        guessed=True,
    ),
    # Feeds and calendars: public, like the pages they follow; a person's calendar, to whoever has its address.
    Case(at(D + "discussion-feed", "osd"), EVERYONE),
    Case(at(D + "discussion-feed", "nope"), GONE, what="of no definition", guessed=True),
    Case(at(V + "ballot-feed", "osd"), EVERYONE, says="Voting opened: Secret"),
    Case(at(V + "ballot-feed", "nope"), GONE, what="of no definition", guessed=True),
    Case(at(V + "ballot-calendar", "osd"), EVERYONE, says="SUMMARY:Secret"),
    Case(at(V + "ballot-calendar", "nope"), GONE, what="of no definition", guessed=True),
    Case(at(V + "personal-calendar", lambda w: w.bobs_calendar), EVERYONE, what="bob's", says="SUMMARY:Components"),
    Case(at(V + "personal-calendar", lambda w: w.bobs_old_calendar), GONE, what="bob's, replaced", guessed=True),
    Case(at(V + "personal-calendar", "not-a-token"), GONE, what="of no one", guessed=True),
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
            **ballot_rows([("use", "Use")], [{"key": "yes", "label": "Yes", "value": "1"}]),
            "results_visibility": "live",
            "eligibility": "frozen",
            "rule": "mean-bands",
            "bands": "1 Maybe",
            "otherwise": "No",
            "k": "2",
            "seed": "1",
            "time_zone": "UTC",
        },
    ),
    Case(at(V + "ballot", "osd", "components"), EVERYONE, what="open"),
    Case(at(V + "ballot", "osd", "secret"), EVERYONE, what="sealed"),
    Case(at(V + "ballot", "osd", "elsewhere"), GONE, what="of another definition", guessed=True),
    Case(at(V + "ballot-open", "osd", "scheduled"), ORGANIZERS, ORGANIZERS_DO),
    Case(at(V + "ballot-open", "osd", "elsewhere"), GONE_FORM, GONE_FORM, guessed=True),
    Case(at(V + "ballot-close", "osd", "components"), ORGANIZERS, ORGANIZERS_DO, data={"reason": "Enough votes."}),
    Case(at(V + "ballot-close", "osd", "elsewhere"), GONE_FORM, GONE_FORM, guessed=True),
    Case(
        at(V + "ballot-edit", "osd", "scheduled"),
        ORGANIZERS,
        ORGANIZERS_DO,
        data=lambda w: {
            "title": "Scheduled, edited",
            "description": "",
            "groups": [w.weights.pk],
            **ballot_rows(CRITERIA, CHOICES),
            "eligibility": "frozen",
            "rule": "mean-bands",
            "bands": "2.0 Yes\n1.5 Lean yes\n1.0 Maybe\n0.5 Lean no",
            "otherwise": "No",
            "k": "3",
            "seed": "42",
            "time_zone": "UTC",
        },
        what="scheduled",
    ),
    Case(
        at(V + "ballot-edit", "osd", "components"),
        ORGANIZERS,
        ORGANIZERS_DO,
        data={"time_zone": "UTC", "closes_at": "2040-01-01T12:00", "reason": "More time."},
        what="open",
    ),
    Case(at(V + "ballot-edit", "osd", "elsewhere"), GONE_FORM, GONE_FORM, guessed=True),
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
    # A voter's receipts hold their votes, sealed ones too: each person gets only their own, nobody anyone else's.
    Case(at(V + "vote-receipts", "osd", "components"), (LOGIN, 404, 200, 200, 200, 404, 404), what="their own"),
    Case(at(V + "vote-receipts", "osd", "secret"), (LOGIN, 404, 200, 404, 404, 404, 404), what="sealed: dave's"),
    Case(at(V + "vote-receipts", "osd", "elsewhere"), GONE_FORM, what="of another definition", guessed=True),
    Case(
        at(V + "vote-receipt", "osd", "components", "code", "use"),
        (LOGIN, 404, 200, 200, 404, 404, 404),  # dave's and bob's cell; alice voted on another
        what="their own cell",
    ),
    Case(at(V + "vote-receipt", "osd", "secret", "code", "use"), (LOGIN, 404, 200, 404, 404, 404, 404), what="sealed"),
    Case(
        at(V + "vote-receipt", "osd", "elsewhere", "code", "use"), GONE_FORM, what="of another definition", guessed=True
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
    # Decisions on the record and objections: `closed` has decision 1 on code, with dave's objection open -----------
    Case(at("analysis:decision-list", "osd", "components"), EVERYONE, what="open"),
    Case(
        at("analysis:decision-list", "osd", "closed"),
        EVERYONE,
        ORGANIZERS_DO,
        data={"component": "code", "outcome": "Lean yes", "statement": "Revised after the call."},
        what="closed",
    ),
    Case(
        at("analysis:decision-list", "osd", "components"),
        None,
        (LOGIN, 403, 403, 403, 403, 403, 200),  # olga is told to wait for the close; nothing is written
        data={"component": "code", "outcome": "Yes", "statement": "Too early."},
        what="open",
    ),
    Case(
        at("analysis:objection-lodge", "osd", "closed", 1),
        POST_ONLY,
        (LOGIN, 403, 302, DONE, DONE, 403, 403),  # members of the definition's groups; dave's awaits its answer
        data={"reasoning": "Code without data is not enough."},
    ),
    Case(
        at("analysis:objection-lodge", "osd", "components", 1),
        None,
        GONE_FORM,
        data={"reasoning": "Which decision?"},
        what="of a ballot with no decision",
        guessed=True,
    ),
    Case(
        at("analysis:objection-lodge", "osd", "closed", NO_SUCH_ID),
        None,
        GONE_FORM,
        data={"reasoning": "Which decision?"},
        what="of no decision",
        guessed=True,
    ),
    Case(
        at("analysis:objection-answer", "osd", "closed", pk("objection")),
        POST_ONLY,
        ORGANIZERS_DO,
        data={"answer": "overruled", "reason": "The groups were heard."},
    ),
    Case(
        at("analysis:objection-answer", "osd", "components", pk("objection")),
        None,
        GONE_FORM,
        data={"answer": "overruled", "reason": "The groups were heard."},
        what="of another ballot",
        guessed=True,
    ),
    Case(
        at("analysis:objection-answer", "osd", "closed", NO_SUCH_ID),
        None,
        GONE_FORM,
        data={"answer": "overruled", "reason": "The groups were heard."},
        what="of no objection",
        guessed=True,
    ),
    Case(
        at(V + "conflicts", "osd", "components"),
        EVERYONE,
        VOTERS_DO,  # members who vote on the ballot, each their own
        data={"component": "", "statement": "My employer builds models."},
        what="open",
    ),
    Case(
        at(V + "conflicts", "osd", "secret"),
        EVERYONE,
        VOTERS_DO,  # declarations are public while the votes are sealed
        data={"component": "", "statement": "My employer builds models."},
        what="sealed",
    ),
    Case(
        at(V + "conflicts", "osd", "closed"),
        EVERYONE,
        (LOGIN, 403, 403, 200, 200, 403, 403),  # its voters are told the register no longer changes
        data={"component": "", "statement": "Too late."},
        what="closed",
        says="its register of conflicts of interest no longer changes",
    ),
    Case(
        at(V + "conflict-withdraw", "osd", "components", pk("conflict")),
        POST_ONLY,
        (LOGIN, 403, 403, DONE, 403, 403, 403),  # bob's declaration: bob alone withdraws it
        data={"reason": "The contract ended."},
    ),
    Case(
        at(V + "conflict-withdraw", "osd", "components", pk("closed_conflict")),
        None,
        GONE_FORM,
        what="of another ballot",
        guessed=True,
    ),
    Case(
        at(V + "conflict-withdraw", "osd", "components", pk("other_conflict")),
        None,
        GONE_FORM,
        what="of another definition's ballot",
        guessed=True,
    ),
    Case(
        at(V + "conflict-withdraw", "osd", "components", NO_SUCH_ID),
        None,
        GONE_FORM,
        what="of no declaration",
        guessed=True,
    ),
    # Notifications: bob's inbox holds one; the unsubscribe link is from a mail to bob ------------------------
    Case(at("notifications:inbox"), SIGNED_IN),
    Case(at("notifications:unread"), SIGNED_IN),
    Case(at("notifications:read", pk("bobs_notification")), POST_ONLY, (LOGIN, 404, 404, SAVED, 404, 404, 404)),
    Case(
        at("notifications:read", pk("bobs_notification")),
        None,
        (LOGIN, 404, 404, SAVED_SHOWN, 404, 404, 404),
        htmx=True,
    ),
    Case(
        at("notifications:read", pk("bobs_notification")),
        None,
        (LOGIN, 404, 404, SAVED, 404, 404, 404),  # read, then to the page it is about
        data={"follow": "1"},
        what="followed",
    ),
    Case(at("notifications:read", NO_SUCH_ID), None, GONE_FORM, what="of no notification", guessed=True),
    Case(at("notifications:read-all"), POST_ONLY, SIGNED_IN_OWN),  # each has one unread
    Case(
        at("notifications:settings"),
        SIGNED_IN,
        (LOGIN, SAVED, SAVED, SAVED, SAVED, SAVED, SAVED),
        data={kind: "daily" for kind in Kind.values if kind not in FIXED},
    ),
    Case(at("notifications:unsubscribe", lambda w: w.unsubscribe_token), EVERYONE, (SAVED_SHOWN,) * 7),
    Case(at("notifications:unsubscribe", "e30:forged:signature"), GONE, GONE, what="of no mail"),
    # Results, downloads and the audit log ----------------------------------------------------
    Case(at("analysis:results", "osd", "components"), EVERYONE, what="open"),
    Case(at("analysis:results", "osd", "components"), EVERYONE, htmx=True, what="open"),
    Case(
        at("analysis:results", "osd", "secret"),
        EVERYONE,
        what="sealed",
        says="The results of this ballot are published when voting closes.",
    ),
    Case(at("analysis:results-csv", "osd", "components"), EVERYONE, what="open"),
    Case(at("analysis:results-csv", "osd", "closed"), EVERYONE, what="closed"),
    Case(at("analysis:results-csv", "osd", "secret"), SEALED, what="sealed"),
    Case(at("analysis:results-csv", "osd", "elsewhere"), GONE, what="of another definition", guessed=True),
    Case(at("analysis:tally-download", "osd", "components"), EVERYONE, what="open"),
    Case(at("analysis:tally-download", "osd", "closed"), EVERYONE, what="closed"),
    Case(at("analysis:tally-download", "osd", "secret"), SEALED, what="sealed"),
    Case(at("analysis:tally-download", "osd", "elsewhere"), GONE, what="of another definition", guessed=True),
    Case(at("analysis:tally-format"), EVERYONE),
    Case(at("analysis:verifier-download"), EVERYONE),
    Case(at("audit:log"), EVERYONE),
    # The log's checkpoints and proofs: public, sealed streams too (hashes and sizes, which the log shows already).
    Case(at("audit:checkpoints"), EVERYONE),
    Case(at("audit:checkpoints-json"), EVERYONE),
    Case(at("audit:checkpoint", query="stream=ballot:osd/components"), EVERYONE, what="latest"),
    Case(at("audit:checkpoint", query="stream=ballot:osd/secret"), EVERYONE, what="of a sealed ballot"),
    Case(at("audit:checkpoint", query="stream=ballot:osd/components&size=1"), GONE, what="of a size never signed"),
    Case(at("audit:checkpoint", query="stream=ballot:osd/nope"), GONE, what="of no stream"),
    Case(at("audit:consistency-json", query="stream=ballot:osd/secret&from=1&to=3"), EVERYONE, what="sealed"),
    Case(at("audit:inclusion-json", query="stream=ballot:osd/secret&seq=1&size=3"), EVERYONE, what="sealed"),
    Case(at("audit:inclusion-json", query="stream=ballot:osd/nope&seq=1&size=1"), GONE, what="of no stream"),
    # A witness posts JSON with no session (tests/audit/test_checkpoints.py); a form is refused, nothing stored.
    Case(at("audit:cosignatures"), (405,) * 7, (400,) * 7, data={"stream": "ballot:osd/components"}, what="a form"),
    Case(at("audit:key"), EVERYONE),
    # Search: anyone searches what they may read. Each secret is searched for by its own words (in reverse, so that the
    # query the page repeats is not the secret), and no one who may not read it finds it, in a snippet or a title
    # (`judge` reads them with the <mark> of each match taken out).
    Case(at("search:search"), EVERYONE, what="with no query", says="Search the definitions"),
    *(Case(Address("search:search", query=SEARCH_FOR[secret]), EVERYONE, what="for a secret") for secret in SECRETS),
    Case(Address("search:search", query="q=" + "x" * 201), EVERYONE, what="too long", says="at most 200 characters"),
    # A person's API tokens: bob's read-only token `api_token`; oscar's is another person's -------------------
    Case(
        at("tokens:token-list"),
        SIGNED_IN,
        (LOGIN,) + (SAVED_SHOWN,) * 6,  # the new token's secret is shown on the answer, never redirected to
        data={"name": "Group sync", "scopes": ["vote", "comment"], "lifetime": "30"},
    ),
    Case(
        at("tokens:token-list"),
        None,
        (LOGIN,) + (200,) * 6,  # shown again with the refusal; nothing written
        data={"name": "x" * 101, "lifetime": "30"},
        what="with a name too long",
    ),
    Case(at("tokens:token-revoke", pk("api_token")), POST_ONLY, (LOGIN, 404, 404, SAVED, 404, 404, 404), what="bob's"),
    Case(at("tokens:token-revoke", NO_SUCH_ID), None, GONE_FORM, what="of no token", guessed=True),
    # The JSON API, with the pages' visibility; its docs and schema ------------------------------------
    Case(at("api-index"), EVERYONE),  # where the docs and the schema are, as JSON
    Case(api("api-root"), EVERYONE, what="the same address as api-index, which answers it"),
    Case(at("api-not-found", "nope"), GONE, what="of no endpoint: JSON, and for a POST too (test_csrf.py)"),
    Case(api("openapi-view"), EVERYONE),  # the docs page, from our own static files
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
    Case(
        api("post_comment", slug="osd", label="0.0.9"),  # the address of comment_list, posted to
        EVERYONE,
        API_SIGNED_IN_DO,
        data={"body": "Agreed, through the API."},
        what="published",
    ),
    Case(
        api("post_comment", slug="osd", label="0.0.9"),
        None,
        API_SIGNED_IN_DO,
        data=lambda w: {"body": "Replying.", "parent": w.comment.pk, "component": None},
        what="a reply",
    ),
    Case(
        api("post_comment", slug="osd", label="0.0.9"),
        None,
        (UNSIGNED,) + (404,) * 6,
        data=lambda w: {"body": "Peek.", "parent": w.draft_comment.pk},
        what="a reply to a comment on the draft",
        guessed=True,
    ),
    Case(api("comment_list", slug="osd", label="0.0.9"), EVERYONE, what="published"),
    Case(api("comment_list", slug="osd", label="0.0.10"), HIDDEN, what="draft"),
    Case(
        api("post_comment", slug="osd", label="0.0.10"),
        HIDDEN,
        (UNSIGNED, 404, 404, 404, 404, 404, API_MADE),
        data={"body": "Peek."},
        what="draft",
    ),
    Case(
        api("comment_list", slug="other", label="2.1"),
        (404, 404, 404, 404, 404, 200, 404),
        what="another definition's draft",
        guessed=True,
    ),
    Case(api("suggestion_list", slug="osd", label="0.0.9"), EVERYONE, what="published"),
    Case(api("suggestion_list", slug="osd", label="0.0.10"), HIDDEN, what="draft"),
    Case(
        api("suggestion_list", slug="other", label="2.1"),
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
    # the address of vote_list, posted to: the GET is the roll call
    Case(api("cast_vote", slug="osd", key="components"), EVERYONE, API_VOTERS_DO, data=CELL, what="open"),
    Case(
        api("cast_vote", slug="osd", key="components"),
        None,
        (UNSIGNED, 403, 403, API_DONE, 403, 403, API_DONE),  # only organizers vote on a member's behalf
        data=CELL | {"voter": "bob"},
        what="for bob",
    ),
    Case(
        api("cast_vote", slug="osd", key="components"),
        None,
        (UNSIGNED,) + (404,) * 6,
        data=CELL | {"component": "draft-only"},
        what="on a component of the draft",
        guessed=True,
    ),
    Case(api("cast_vote", slug="osd", key="secret"), SEALED, API_VOTERS_DO, data=CELL, what="sealed"),
    Case(api("cast_vote", slug="osd", key="closed"), EVERYONE, (UNSIGNED,) + (400,) * 6, data=CELL, what="closed"),
    Case(
        api("withdraw_vote", slug="osd", key="components"),
        API_NOT_ALLOWED,
        (UNSIGNED, 400, API_GONE, API_GONE, 400, 400, 400),  # dave's and bob's votes; nobody else has one here
        data={"component": "code", "criterion": "use"},
        what="open",
    ),
    Case(
        api("withdraw_vote", slug="osd", key="components"),
        None,
        (UNSIGNED, 403, 403, API_GONE, 403, 403, API_GONE),  # bob's own, or an organizer's for him
        data={"component": "code", "criterion": "use", "voter": "bob"},
        what="for bob",
    ),
    Case(
        api("withdraw_vote", slug="osd", key="elsewhere"),
        None,
        (UNSIGNED,) + (404,) * 6,
        data={"component": "code", "criterion": "use"},
        what="of another definition",
        guessed=True,
    ),
    Case(api("grant_list", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("grant_list", slug="osd", key="secret"), EVERYONE, what="sealed"),
    Case(api("dispute_list", slug="osd", key="components"), EVERYONE),
    Case(
        api("raise_dispute", slug="osd", key="components"),  # the address of dispute_list, posted to
        EVERYONE,
        (UNSIGNED, 403, API_MADE, API_MADE, API_MADE, 403, API_MADE),  # as the page
        data={"voter": "bob", "reason": "Cast by mistake."},
        what="open",
    ),
    Case(
        api("raise_dispute", slug="osd", key="secret"),
        EVERYONE,
        (UNSIGNED, 403, 400, 400, 400, 403, 400),  # told to wait until the votes are published
        data={"voter": "dave", "reason": "Why?"},
        what="sealed",
    ),
    Case(api("outcomes", slug="osd", key="components"), EVERYONE, what="open"),
    Case(api("outcomes", slug="osd", key="secret"), SEALED, what="sealed"),
    Case(api("event_list"), EVERYONE),
    *(Case(Address("api:search", query=SEARCH_FOR[secret]), EVERYONE, what="for a secret") for secret in SECRETS),
    Case(Address("api:search", query="q=" + "x" * 201), (400,) * 7, what="too long"),
]
