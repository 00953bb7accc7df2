"""Every votes form, posted through its real URL with hostile input drawn by hypothesis.

As in tests/deliberation/test_forms_fuzz.py: each form is posted by the persona allowed to use it
(olga organizes, bob votes for `weights`, dave for `corpora`); never a 500; the input is either
stored exactly as sent or refused with a message on the page and no row of any table changed,
audit log included. "@weights", "@code" and the like stand for rows' ids, filled in once the
fixtures exist. `ballot` is open on version 0.0.9 (components code, data and the aggregate all-data).
"""

import re
import zoneinfo
from datetime import UTC
from html import unescape

import pytest
from django import forms
from django.contrib.messages import constants
from django.utils import timezone
from django.utils.html import escape
from hypothesis import example, given
from hypothesis import strategies as st

from analysis import services as analysis
from audit.models import AuditEvent
from tests.fuzzing import (
    Answer,
    answer,
    assert_refused_clearly,
    dates,
    fill,
    fuzz,
    mutated,
    numbers,
    post,
    references,
    rolled_back,
    rows,
    submitted,
    text,
)
from tests.votes.pages import url
from votes import services
from votes.models import Ballot, Dispute, VetoGrant, Vote

KEY = st.from_regex(r"[-a-zA-Z0-9_]{1,64}", fullmatch=True)
SHORT_KEY = st.from_regex(r"[a-z][-a-z0-9]{0,31}", fullmatch=True)
LABEL = st.text(
    st.characters(codec="utf-8", exclude_characters="|\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=70
)


def refused_or(result: Answer, before: dict, statuses=(200, 302)) -> bool:
    """True when the input was accepted; when refused, check the message is shown and nothing was written."""
    if result.refused:
        assert result.status in statuses, result.status
        assert_refused_clearly(result)
        assert rows() == before, "a refused form changed the database"
        return False
    return True


def new(model, before: dict):
    """The one row of `model` that was not there before."""
    return model.objects.exclude(pk__in=[r["id"] for r in before[model._meta.label]]).get()


# Creating a ballot ---------------------------------------------------------------------------------------------


def lines(draw_lines):
    return draw_lines.map("\n".join)


CRITERIA = lines(st.lists(st.tuples(SHORT_KEY, LABEL).map(" ".join), min_size=1, max_size=4))
CHOICES = lines(
    st.lists(
        st.tuples(
            SHORT_KEY,
            LABEL,
            st.integers(-3, 3).map(str),
            st.sampled_from(["", "grant", "blocking, rationale", "grant,blocking,rationale"]),
        ).map(" | ".join),
        min_size=1,
        max_size=4,
    )
)
FLAGS = {"grant": "requires_grant", "blocking": "blocking", "rationale": "requires_rationale"}


def as_rows(data: dict) -> dict:
    """The criteria and choices drawn as lines ("key label", "key | label | value | flags"), posted as the form's
    rows; a line that is not one stays whatever its cells are, for the form to refuse."""
    data = dict(data)
    criteria = [line.partition(" ") for line in data.pop("criteria", "").splitlines()]
    choices = [[cell.strip() for cell in line.split("|")] for line in data.pop("choices", "").splitlines()]
    rows = {"criteria-TOTAL_FORMS": str(len(criteria)), "criteria-INITIAL_FORMS": "0"}
    for i, (key, _, label) in enumerate(criteria):
        rows |= {f"criteria-{i}-key": key, f"criteria-{i}-label": label}
    rows |= {"choices-TOTAL_FORMS": str(len(choices)), "choices-INITIAL_FORMS": "0"}
    for i, cells in enumerate(choices):
        key, label, value, flags = [*cells, "", "", "", ""][:4]
        rows |= {f"choices-{i}-key": key, f"choices-{i}-label": label, f"choices-{i}-value": value}
        rows |= {f"choices-{i}-{FLAGS[f.strip()]}": "on" for f in flags.split(",") if f.strip() in FLAGS}
    return data | rows


def posted_rows(sent, prefix: str, names: tuple[str, ...]) -> list[tuple]:
    """The rows as posted, the blank ones left out, as the form reads them."""
    found = []
    for i in range(int(sent.get(f"{prefix}-TOTAL_FORMS", 0))):
        row = tuple(sent.get(f"{prefix}-{i}-{name}", "").strip() for name in names)
        if any(row):
            found.append(row)
    return found


BANDS = lines(st.lists(st.tuples(st.floats(-10, 10).map(repr), LABEL).map(" ".join), max_size=4))

BALLOT = {
    "title": text(60),
    "key": KEY,
    "version": st.sampled_from(["@published", "@draft"]),
    "description": st.one_of(st.none(), text(200)),
    "groups": st.lists(st.sampled_from(["@weights", "@corpora"]), min_size=1, max_size=2, unique=True),
    "criteria": CRITERIA,
    "choices": CHOICES,
    "results_visibility": st.sampled_from(["live", "after_close"]),
    "eligibility": st.sampled_from(["frozen", "live"]),
    "time_zone": st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "America/St_Johns"]),
    "rule": st.sampled_from(["mean-bands", "majority"]),
    "bands": st.one_of(st.none(), BANDS, st.just("2.0 Yes\n1.5 Lean yes\n1.0 Maybe\n0.5 Lean no")),
    "otherwise": st.one_of(st.none(), text(30)),
    "threshold": st.one_of(st.none(), st.floats(0.01, 1).map(repr)),
    "k": st.integers(2, 6).map(str),
    "seed": st.integers(0, 2**32 - 1).map(str),
    "opens_at": st.one_of(st.none(), st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="minutes"))),
    "closes_at": st.none(),
}
BALLOT_HOSTILE = {
    "version": references(),
    "groups": st.lists(references(), min_size=1, max_size=3),
    "k": numbers(),
    "seed": numbers(),
    "threshold": numbers(),
    "opens_at": dates(),
    "closes_at": dates(),
    "key": st.one_of(text(80), st.just("components")),
    "time_zone": text(40),
    "criteria": text(300),
    "choices": st.one_of(text(300), st.just("yes | Yes | 99999999999999999999999")),
    "bands": st.one_of(text(300), st.just("1e308 Yes\n-1e308 No")),
}
GOOD_BALLOT = {
    "title": "Second look",
    "key": "second-look",
    "version": "@published",
    "groups": ["@weights"],
    "criteria": "use Use",
    "choices": "yes | Yes | 1",
    "results_visibility": "live",
    "eligibility": "frozen",
    "time_zone": "Europe/Paris",
    "rule": "mean-bands",
    "bands": "2 Yes",
    "otherwise": "No",
    "k": "2",
    "seed": "42",
}


def parsed_lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


@pytest.mark.slow
@fuzz(30)
@given(data=mutated(BALLOT, BALLOT_HOSTILE))
@example(data=GOOD_BALLOT | {"seed": str(2**32)})  # more than k-means takes as its random state
@example(data=GOOD_BALLOT | {"seed": "99999999999999999999999999"})
@example(data=GOOD_BALLOT | {"groups": ["99999999999999999999"]})
@example(data=GOOD_BALLOT | {"opens_at": "9999-12-31 23:59", "closes_at": "0001-01-01 00:00"})
@example(data=GOOD_BALLOT | {"title": "Ballot \x00", "criteria": "use U\x00se"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_ballot_form_creates_the_ballot_as_written_or_says_why_not(
    client, olga, published, draft, group, other_group, bob, data
):
    ids = {"@published": published.pk, "@draft": draft.pk, "@weights": group.pk, "@corpora": other_group.pk}
    data = as_rows(fill(data, ids))
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("ballot-create", "osd"), data))

        if refused_or(result, before):
            sent = submitted(data)
            ballot = new(Ballot, before)
            stored = (ballot.title, ballot.key, ballot.description, ballot.version_id, ballot.results_visibility)
            assert stored == (
                sent["title"].strip(),
                sent["key"].strip(),
                sent.get("description", "").strip(),
                int(sent["version"]),
                sent["results_visibility"],
            )
            assert sorted(g.pk for g in ballot.groups.all()) == sorted({int(g) for g in sent.getlist("groups")})
            criteria = posted_rows(sent, "criteria", ("key", "label"))
            assert list(ballot.criteria.values_list("key", "label")) == criteria
            choices = posted_rows(sent, "choices", ("key", "label", "value"))
            assert [(c.key, c.label, c.value) for c in ballot.choices.all()] == [
                (key, label, int(value.replace("+", "").replace("−", "-"))) for key, label, value in choices
            ]
            if sent["rule"] == "mean-bands":
                bands = [line.partition(" ") for line in parsed_lines(sent.get("bands", ""))]
                assert ballot.methodology == {
                    "rule": "mean-bands",
                    "bands": [{"min": float(m), "label": label.strip()} for m, _, label in bands],
                    "otherwise": sent.get("otherwise", "").strip(),
                }
            assert ballot.clustering == {"k": int(sent["k"]), "seed": int(sent["seed"])}
            for name in ("opens_at", "closes_at"):
                with timezone.override(zoneinfo.ZoneInfo(sent["time_zone"])):  # read in the zone the form stated
                    expected = forms.DateTimeField(required=False).clean(sent.get(name, ""))
                assert getattr(ballot, name) == (expected and expected.astimezone(UTC))
            # What was stored can be voted on and computed.
            services.open_ballot(ballot=ballot, acting_user=olga)
            if ballot.accepts_votes():
                choice = ballot.choices.filter(requires_grant=False).first()
                if choice is not None:
                    services.cast_vote(
                        ballot=ballot,
                        voter=bob,
                        component=published.components.get(key="code"),
                        criterion=ballot.criteria.first(),
                        choice=choice,
                        rationale="Because.",
                    )
            assert analysis.compute_run(ballot).results["scenarios"]


# The vote grid -------------------------------------------------------------------------------------------------

CELL_KEYS, CRITERIA_KEYS = ("code", "data", "all-data"), ("use", "study", "modify", "share")
CELL = {
    "component": st.sampled_from(CELL_KEYS),
    "criterion": st.sampled_from(CRITERIA_KEYS),
    "choice": st.sampled_from(["required", "abstain", "not-necessary", "object", "", None]),
    "rationale": st.one_of(st.none(), text(300)),
    "group": st.sampled_from(["weights", "corpora", None]),
    "withdraw": st.sampled_from([None, "on"]),
}


def grid_answer(client, response, htmx: bool) -> Answer:
    """The cell re-rendered with its error (htmx), or the grid redirected to with a message."""
    if response.status_code == 404:  # the hidden fields name a component or criterion the ballot does not have
        return Answer(404, True, ["Not found"], response.content.decode())
    if response.status_code == 400 and not htmx and b"<html" in response.content:  # a group the voter is not in
        errors = [str(m) for m in response.context["messages"] if m.level == constants.ERROR]
        return Answer(400, True, errors, response.content.decode())
    if response.status_code == 400:  # the hidden fields name no cell of the ballot
        assert response.content == b"That is not a cell of this ballot."
        return Answer(400, True, ["That is not a cell of this ballot."], response.content.decode())
    if htmx and response.status_code in (200, 429):
        html = response.content.decode()
        assert "<html" not in html
        errors = [unescape(e) for e in re.findall(r'<p class="errors" role="alert">(.*?)</p>', html, re.S)]
        return Answer(response.status_code, bool(errors), errors, html)
    return answer(client, response)


@pytest.mark.slow
@fuzz(30)
@given(htmx=st.booleans(), data=mutated(CELL, {"component": text(70), "criterion": text(40), "choice": text(40)}))
@example(htmx=True, data={"component": "code", "criterion": "use", "choice": "required", "rationale": "x" * 4001})
@example(htmx=False, data={"component": "code", "criterion": "use", "choice": "required", "rationale": "why\x00"})
@example(htmx=True, data={"component": "data", "criterion": "study", "choice": "no-such-choice"})  # not a withdrawal
@example(htmx=True, data={"component": "code", "criterion": "use", "choice": "object", "rationale": "   "})
@example(htmx=True, data={"component": "all-data", "criterion": "use", "choice": "required"})
def test_a_vote_cell_stores_the_vote_as_cast_or_says_why_not(client, ballot, bob, cast, htmx, data):
    cast(bob, "data", "study", "object", rationale="Earlier vote.")
    with rolled_back(client, bob):
        before = rows()
        response = post(client, url("vote-grid", "osd", "components"), data, htmx=htmx)
        result = grid_answer(client, response, htmx)

        sent = submitted(data)
        if sent.get("component", "").strip() in CELL_KEYS and sent.get("criterion", "").strip() in CRITERIA_KEYS:
            assert result.status != 404, "a cell of the ballot, refused as if it were none"
            assert result.errors != ["That is not a cell of this ballot."], "a cell of the ballot, refused as none"
        if sent.get("group") not in (None, "", "weights") and result.errors != ["That is not a cell of this ballot."]:
            assert any("does not vote for" in e for e in result.errors), "a vote for another group, not refused"
        if refused_or(result, before, statuses=(200, 302, 400, 404)):
            vote = Vote.objects.filter(
                ballot=ballot, voter=bob, component__key=sent["component"], criterion__key=sent["criterion"]
            ).first()
            confirmed = forms.BooleanField(required=False).clean(sent.get("withdraw"))
            voted = (sent["component"].strip(), sent["criterion"].strip()) == ("data", "study")
            asked = not sent.get("choice") and not confirmed and voted
            if asked:
                assert (vote.choice.key, vote.rationale) == ("object", "Earlier vote.")  # asked first, nothing done
            elif confirmed or not sent.get("choice"):
                assert vote is None
            else:
                assert (vote.choice.key, vote.rationale) == (sent["choice"], sent.get("rationale", "").strip())
                assert vote.group.key == "weights"
            if htmx and vote is not None and not asked:
                assert f'value="{escape(vote.rationale)}"' in result.html  # the cell shows what was stored


# Veto grants ---------------------------------------------------------------------------------------------------

GRANT = {
    "choice": st.sampled_from(["@not-necessary", "@required"]),
    "group": st.sampled_from(["@weights", "@corpora", None, ""]),
    "member": st.sampled_from(["", "alice", "@alice", " dave ", "carol", "nobody", None]),
    "category": st.sampled_from(["", "Code", "Data", "Nope", None]),
    "reason": text(200),
}


@pytest.mark.slow
@fuzz()
@given(data=mutated(GRANT, {"choice": references(), "group": references(), "member": text(160)}))
@example(data={"choice": "@not-necessary", "group": "@weights", "reason": "Charter \x00"})
@example(data={"choice": "@not-necessary", "group": "99999999999999999999", "reason": "Charter"})
@example(data={"choice": "@not-necessary", "member": "alice\x00", "reason": "Charter"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_grant_form_grants_as_written_or_says_why_not(client, olga, ballot, alice, dave, data):
    ids = {f"@{c.key}": c.pk for c in ballot.choices.all()} | {f"@{g.key}": g.pk for g in ballot.groups.all()}
    data = fill(data, ids)
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("grants", "osd", "components"), data))

        if refused_or(result, before):
            sent = submitted(data)
            grant = new(VetoGrant, before)
            assert (grant.choice_id, grant.reason, grant.category) == (
                int(sent["choice"]),
                sent["reason"].strip(),
                sent.get("category", ""),
            )
            if sent.get("group"):
                assert (grant.group_id, grant.member) == (int(sent["group"]), None)
            else:
                assert (grant.group, grant.member.username) == (None, sent["member"].strip().lstrip("@"))


@pytest.fixture
def granted(ballot, olga, alice):
    return services.grant_veto(
        ballot=ballot, choice=ballot.choices.get(key="not-necessary"), member=alice, reason="Steward.", acting_user=olga
    )


@pytest.mark.slow
@fuzz()
@given(data=mutated({"reason": text(200)}))
@example(data={"reason": "Term ended \x00"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_revoke_form_revokes_with_the_reason_or_says_why_not(client, olga, granted, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("grant-revoke", "osd", "components", granted.pk), data))

        if refused_or(result, before):
            grant = VetoGrant.objects.get(pk=granted.pk)
            assert grant.revoked_at is not None
            assert grant.revoke_reason == submitted(data)["reason"].strip()


# Disputes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def voted(ballot, cast, alice, bob, dave):
    cast(alice, "code", "use", "required")
    cast(bob, "code", "use", "object", rationale="Not yet.")
    cast(dave, "data", "study", "abstain")
    return ballot


DISPUTE = {
    "voter": st.sampled_from(["", "alice", "@bob", " Dave ", "carol", "nobody", None]),
    "group": st.sampled_from(["", "@weights", "@corpora", None]),
    "choice": st.sampled_from(["", "@required", "@object", "@abstain", "@not-necessary", None]),
    "component": st.sampled_from(["", "@code", "@data", "@all-data", None]),
    "criterion": st.sampled_from(["", "@use", "@study", None]),
    "reason": text(200),
}


@fuzz(30)
@given(
    data=mutated(
        DISPUTE,
        {
            "voter": text(160),
            "group": references(),
            "choice": references(),
            "component": references(),
            "criterion": references(),
        },
    )
)
@pytest.mark.slow
@example(data={"voter": "alice", "reason": "Why \x00"})
@example(data={"voter": "alice\x00", "reason": "Why"})
@example(data={"component": "99999999999999999999", "reason": "Why"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_dispute_form_raises_the_dispute_as_written_or_says_why_not(client, bob, voted, data):
    ids = (
        {f"@{g.key}": g.pk for g in voted.groups.all()}
        | {f"@{c.key}": c.pk for c in voted.choices.all()}
        | {f"@{c.key}": c.pk for c in voted.version.components.all()}
        | {f"@{c.key}": c.pk for c in voted.criteria.all()}
    )
    data = fill(data, ids)
    with rolled_back(client, bob):
        before = rows()
        result = answer(client, post(client, url("disputes", "osd", "components"), data))

        if refused_or(result, before):
            sent = submitted(data)
            dispute = new(Dispute, before)
            assert (dispute.raised_by, dispute.reason, dispute.status) == (bob, sent["reason"].strip(), "open")
            voter = sent.get("voter", "").strip().lstrip("@").lower()
            assert (dispute.voter.username if dispute.voter else "") == voter
            for name in ("group", "choice", "component", "criterion"):
                assert getattr(dispute, f"{name}_id") == (int(sent[name]) if sent.get(name) else None)
            assert AuditEvent.objects.filter(action="dispute.raised").count() == 1


@pytest.fixture
def dispute(voted, bob):
    return services.raise_dispute(
        ballot=voted, raised_by=bob, reason="Why object?", choice=voted.choices.get(key="object")
    )


@pytest.mark.slow
@fuzz()
@given(data=mutated({"status": st.sampled_from(["upheld", "dismissed"]), "resolution": text(200)}))
@example(data={"status": "upheld", "resolution": "Agreed \x00"})
@example(data={"status": "open", "resolution": "Reopened"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_resolve_form_resolves_as_written_or_says_why_not(client, olga, dispute, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("dispute-resolve", "osd", "components", dispute.pk), data))

        if refused_or(result, before):
            sent = submitted(data)
            resolved = Dispute.objects.get(pk=dispute.pk)
            assert (resolved.status, resolved.resolution) == (sent["status"], sent["resolution"].strip())


# Closing and moving the closing time ---------------------------------------------------------------------------


@fuzz(30)
@given(data=mutated({"reason": text(200)}))
@example(data={"reason": "Everyone voted \x00"})
@example(data={"reason": "x" * 2001})
@example(data={})  # no reason: the ballot has no closing time, so none is needed
def test_the_close_form_closes_with_the_reason_or_says_why_not(client, olga, ballot, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("ballot-close", "osd", "components"), data))

        if refused_or(result, before):
            closed = Ballot.objects.get(pk=ballot.pk)
            assert closed.status == Ballot.Status.CLOSED
            assert closed.close_reason == submitted(data).get("reason", "").strip()


@pytest.mark.slow  # over three seconds on its own (about 3.5 s of CPU): thirty examples, each rescheduling a ballot
@fuzz(30)
@given(
    data=mutated(
        {
            "time_zone": st.sampled_from(["UTC", "Europe/Paris", "Asia/Kathmandu"]),
            "closes_at": st.datetimes().map(lambda d: d.isoformat(sep="T", timespec="seconds")),
            "reason": text(200),
        },
        {"time_zone": text(40), "closes_at": dates()},
    )
)
@example(data={"time_zone": "UTC", "closes_at": "2040-01-01T12:00", "reason": "More time"})
@example(data={"time_zone": "UTC", "closes_at": "0001-01-01T00:00", "reason": "Back to the year one"})
@example(data={})
def test_the_reschedule_form_moves_the_closing_time_or_says_why_not(client, olga, ballot, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("ballot-edit", "osd", "components"), data))

        if refused_or(result, before):
            sent = submitted(data)
            with timezone.override(zoneinfo.ZoneInfo(sent["time_zone"])):
                expected = forms.DateTimeField(required=False).clean(sent.get("closes_at", ""))
            assert Ballot.objects.get(pk=ballot.pk).closes_at == (expected and expected.astimezone(UTC))
            assert (
                AuditEvent.objects.filter(action="ballot.rescheduled").get().payload["reason"] == sent["reason"].strip()
            )
