"""Many members voting at once through the web server, as their browsers would.

Forty clients, each a `requests` session of its own that signs in through the login form and
posts the vote grid with its CSRF token — as a plain form post that is redirected, or as an htmx
request with `HX-Request` and `X-CSRFToken` — against pytest-django's live server, all at once
on one ballot. Members cast, change and withdraw their votes; organizers vote on bob's behalf on
one cell from two browsers each while bob votes on it himself; two outsiders post and are turned
away. Afterwards every response was one the grid gives (no 500), the database holds one vote per
cell, the audit chain verifies, replaying it gives the stored votes, and each member's cells hold
what the member's last answered request said they hold.

Like the service-level race tests, this needs PostgreSQL: SQLite runs one write at a time.
"""

import html
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests
from django.db.models import Count

from audit.models import AuditEvent
from plenary_tally import chain
from tests.broker import REDIS_URL, delete_queue, publishing_to, redis_or_skip
from tests.client import HTMX
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from votes import services
from votes.models import Vote

from .conftest import CRITERIA
from .replay import replay, stored
from .test_concurrency import on_postgresql

CLIENTS = 40  # browsers at once: 34 members, 4 organizers voting for bob, 2 outsiders
REQUESTS = 6  # vote-grid posts by each browser
ORGANIZER_BROWSERS = ["olga", "olga", "oscar", "oscar"]
OUTSIDERS = ["carol", "olivier"]
CELLS = [(component, criterion) for component in ("code", "data") for criterion, _ in CRITERIA]
HOT_CELL = ("bob", "code", "use")  # bob votes here himself, and olga and oscar vote here for him
LABELS = {"required": "Required", "abstain": "Abstain", "not-necessary": "Not necessary", "object": "Object"}
NO_VOTE = "There is no vote to withdraw here."
NEEDS_RATIONALE = "A vote “Object” needs a rationale."
TIMEOUT = 60  # seconds for any one request


def csrf_token(page: str) -> str:
    """The token the page gives its forms and, on <body>, its htmx requests."""
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html.unescape(page))
    assert match, "the page carries no CSRF token"
    return match.group(1)


def grid_cell(page: str, component: str, criterion: str) -> tuple[str | None, str]:
    """A cell of the grid as shown: the label of its vote (None for no vote) and its error, if any."""
    match = re.search(rf'<td id="cell-{component}-{criterion}"[^>]*>(.*?)</td>', page, re.S)
    assert match, f"no cell {component}/{criterion} in the page"
    badge = re.search(r'<span class="badge choice[^"]*">([^<]+)</span>', match.group(1))
    error = re.search(r'<p class="errors" role="alert">(.*?)</p>', match.group(1), re.S)
    return (
        html.unescape(badge.group(1)) if badge else None,
        html.unescape(error.group(1)).strip() if error else "",
    )


def page_errors(page: str) -> list[str]:
    return [html.unescape(m).strip() for m in re.findall(r'<li class="message error">(.*?)</li>', page, re.S)]


@dataclass
class Browser:
    """One person's browser: its own cookies and CSRF token, every answer it got, what it saw its cells hold."""

    base_url: str
    username: str
    session: requests.Session = field(default_factory=requests.Session)
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    cells: dict[tuple[str, str, str], tuple[str, str] | None] = field(default_factory=dict)
    changes: int = 0  # the casts, changes and withdrawals it saw succeed on cells only it touches
    unexpected: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        response = self.session.request(method, self.base_url + path, timeout=TIMEOUT, **kwargs)
        self.answers.append((method, path, response.status_code))
        return response

    def post(self, path: str, data: dict, token: str, htmx: bool = False, target: str = "") -> requests.Response:
        headers = {"Origin": self.base_url, "Referer": self.base_url + path}
        if htmx:  # what htmx sends: the header set on <body>, not the form field
            headers |= HTMX | {"HX-Target": target, "HX-Current-URL": self.base_url + path}
            headers |= {"X-CSRFToken": token}
        else:
            data = data | {"csrfmiddlewaretoken": token}
        return self.request("POST", path, data=data, headers=headers)

    def sign_in(self) -> None:
        page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.post("/accounts/login/", {"login": self.username, "password": PASSWORD}, token)
        errors = re.findall(r"<ul class=\"errorlist[^>]*>(.*?)</ul>", response.text, re.S)
        assert response.status_code == 302, f"{self.username} could not sign in: {response.status_code} {errors}"


@on_postgresql
def test_forty_browsers_voting_at_once_over_http_lose_nothing_and_get_no_server_error(
    live_server, settings, ballot, olga, alice, bob, dave, group, other_group
):
    # Every browser here signs in from 127.0.0.1 at the same moment, which allauth's per-address limits would
    # take for an attack: raise them for this test. Vote posts keep whatever limit the app sets.
    settings.ACCOUNT_RATE_LIMITS = {"login": "1000/m/ip", "login_failed": "1000/m/ip"}
    services.grant_veto(
        ballot=ballot,
        choice=ballot.choices.get(key="not-necessary"),
        group=other_group,
        reason="Charter",
        acting_user=olga,
    )
    ballot.definition.organizers.add(UserFactory(username="oscar"))
    for handle in OUTSIDERS:
        UserFactory(username=handle)
    members = [alice, bob, dave]
    while len(members) < CLIENTS - len(ORGANIZER_BROWSERS) - len(OUTSIDERS):
        members.append(MembershipFactory(group=group if len(members) % 2 else other_group, user=UserFactory()).user)
    corpora = {m.user.username for m in other_group.memberships.select_related("user")}
    grid_path = f"/d/osd/ballots/{ballot.key}/vote/"
    ballot_path = f"/d/osd/ballots/{ballot.key}/"

    def member(browser: Browser, rng: random.Random) -> None:
        me = browser.username
        page = browser.request("GET", grid_path)
        assert page.status_code == 200
        token = csrf_token(page.text)
        keys = ["required", "required", "abstain", "object", *(["not-necessary"] * (me in corpora))]
        for _ in range(REQUESTS):
            component, criterion = rng.choice(CELLS)
            cell = (me, component, criterion)
            data = {"component": component, "criterion": criterion, "choice": "", "rationale": "", "withdraw": "on"}
            if rng.random() >= 0.3:  # else "— no vote —": withdraw, confirmed
                del data["withdraw"]
                data["choice"] = rng.choice(keys)
                data["rationale"] = rng.choice(["", "", "Because."])
                if data["choice"] == "object" and rng.random() < 0.7:
                    data["rationale"] = "Not without the data."
            htmx = rng.random() < 0.7  # else a plain form post, redirected to the whole grid
            response = browser.post(grid_path, data, token, htmx=htmx, target=f"cell-{component}-{criterion}")
            if htmx:
                if response.status_code != 200:
                    browser.unexpected.append(f"htmx post answered {response.status_code}")
                    continue
                shown, error = grid_cell(response.text, component, criterion)
            else:
                if response.status_code != 302:
                    browser.unexpected.append(f"form post answered {response.status_code}")
                    continue
                page = browser.request("GET", response.headers["Location"])
                if page.status_code != 200:
                    browser.unexpected.append(f"the redirect answered {page.status_code}")
                    continue
                shown, _ = grid_cell(page.text, component, criterion)
                errors = page_errors(page.text)
                error = errors[0] if errors else ""
            if cell == HOT_CELL:  # others vote here too: any answer the grid gives is fine, but no other error
                if error and NO_VOTE not in error and NEEDS_RATIONALE not in error:
                    browser.unexpected.append(error)
                continue
            before = browser.cells.get(cell)
            if not data["choice"]:
                expected_error, after = ("" if before else NO_VOTE), None
            elif data["choice"] == "object" and not data["rationale"]:
                expected_error, after = NEEDS_RATIONALE, before
            else:
                expected_error, after = "", (data["choice"], data["rationale"])
            if expected_error not in error or bool(error) != bool(expected_error):
                browser.unexpected.append(f"{component}/{criterion}: expected {expected_error!r}, got {error!r}")
            browser.changes += after != before
            browser.cells[cell] = after
            if shown != (LABELS[after[0]] if after else None):
                browser.unexpected.append(f"{component}/{criterion}: shown {shown!r}, stored {after!r}")

    def for_bob(browser: Browser, rng: random.Random) -> None:
        path = f"{grid_path}bob/"
        page = browser.request("GET", path)
        assert page.status_code == 200
        token = csrf_token(page.text)
        for _ in range(REQUESTS):
            choice = rng.choice(["", "required", "abstain", "object"])
            data = {"component": "code", "criterion": "use", "choice": choice, "rationale": "For bob."}
            data |= {"withdraw": "on"} if not choice else {}  # the withdrawal confirmed
            response = browser.post(path, data, token, htmx=True, target="cell-code-use")
            if response.status_code != 200:
                browser.unexpected.append(f"htmx post for bob answered {response.status_code}")
                continue
            _, error = grid_cell(response.text, "code", "use")
            if error and error != NO_VOTE:
                browser.unexpected.append(error)

    def outsider(browser: Browser, rng: random.Random) -> None:
        token = csrf_token(browser.request("GET", ballot_path).text)
        for _ in range(REQUESTS // 2):
            data = {"component": "code", "criterion": rng.choice(CRITERIA)[0], "choice": "required"}
            if browser.post(grid_path, data, token, htmx=True).status_code != 403:
                browser.unexpected.append("an outsider's vote was not refused with 403")
            if browser.request("GET", grid_path).status_code != 403:
                browser.unexpected.append("an outsider was shown the grid")

    browsers = [(Browser(live_server.url, m.username), member) for m in members]
    browsers += [(Browser(live_server.url, handle), for_bob) for handle in ORGANIZER_BROWSERS]
    browsers += [(Browser(live_server.url, handle), outsider) for handle in OUTSIDERS]
    assert len(browsers) == CLIENTS
    start = threading.Barrier(CLIENTS + 1)
    failures: list[BaseException] = []

    def run(i: int, browser: Browser, behave) -> None:
        try:
            browser.sign_in()
            start.wait(timeout=TIMEOUT)
            behave(browser, random.Random(i))
        except BaseException as exc:  # reported to the test, which fails on it
            failures.append(exc)
            start.abort()
        finally:
            browser.session.close()  # the server's thread for this connection ends, and its database connection

    redis = redis_or_skip()
    queue = f"plenary-test-{uuid.uuid4().hex[:12]}"
    try:
        with publishing_to(REDIS_URL, queue=queue):  # recomputes are queued, as from the web app in production
            threads = [threading.Thread(target=run, args=(i, *b), daemon=True) for i, b in enumerate(browsers)]
            for thread in threads:
                thread.start()
            try:
                start.wait(timeout=TIMEOUT)  # every browser signed in
            except threading.BrokenBarrierError:
                pass  # one could not: its failure is reported below
            began = time.monotonic()
            for thread in threads:
                thread.join(timeout=2 * TIMEOUT)
            took = time.monotonic() - began
            assert not any(t.is_alive() for t in threads), "a browser hung"
        recomputes_queued = redis.llen(queue)
    finally:
        delete_queue(redis, queue)

    assert failures == []
    answers = Counter(status for browser, _ in browsers for _, _, status in browser.answers)
    assert answers[500] == 0
    assert set(answers) <= {200, 302, 403}, answers
    assert [u for browser, _ in browsers for u in browser.unexpected] == []
    posts = sum(method == "POST" and path != "/accounts/login/" for b, _ in browsers for method, path, _ in b.answers)
    print(f"\n{CLIENTS} browsers, {posts} vote posts ({sum(answers.values())} requests) in {took:.1f} s: {answers}")

    per_cell = Vote.objects.values("ballot", "voter", "component", "criterion").annotate(n=Count("pk"))
    assert {row["n"] for row in per_cell} == {1}
    events = [e.canonical() for e in AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq")]
    assert chain.verify(events)[0] is None
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert chain.verify(AuditEvent.objects.in_chain_order().canonical())[0] is None
    assert replay(ballot) == stored(ballot)
    assert recomputes_queued == sum(e["action"].startswith("vote.") for e in events)  # one per committed change

    seen = {cell: vote for browser, _ in browsers for cell, vote in browser.cells.items() if vote is not None}
    votes = {cell: (choice, rationale) for cell, (_, choice, rationale, _) in stored(ballot).items()}
    votes.pop(HOT_CELL, None)
    assert votes == seen
    on_own_cells = Counter(
        e["payload"]["voter"]
        for e in events
        if e["action"].startswith("vote.")
        and (e["payload"]["voter"], e["payload"]["component"], e["payload"]["criterion"]) != HOT_CELL
    )
    assert on_own_cells == Counter({b.username: b.changes for b, _ in browsers if b.changes})
