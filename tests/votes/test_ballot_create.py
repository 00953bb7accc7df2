"""Creating a ballot from the form.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

from unittest import mock

import pytest

from deliberation import markdown
from tests.client import page_messages, text
from tests.votes.pages import actions, ballot_rows, ballot_url, url
from votes.models import DESCRIPTION_MAX_LENGTH, Ballot

# Creating a ballot ---------------------------------------------------------------------------


@pytest.fixture
def ballot_form(published, group, other_group):
    """What an organizer fills in on the ballot form."""
    return {
        "title": "Second look at 0.0.9",
        "key": "second-look",
        "version": published.pk,
        "description": "Is each component *required*?",
        "groups": [group.pk, other_group.pk],
        **ballot_rows(
            [("use", "Use"), ("", ""), ("study", "  Study it ")],
            [
                {"key": "yes", "label": "Yes", "value": "+1"},
                {"key": "abstain", "label": "Abstain", "value": "0"},
                {
                    "key": "no",
                    "label": "Not necessary",
                    "value": "−1",
                    "requires_grant": True,
                    "blocking": True,
                    "requires_rationale": True,
                },
            ],
        ),
        "eligibility": "frozen",
        "time_zone": "UTC",
        "results_visibility": "after_close",
        "rule": "mean-bands",
        "bands": "2 Yes\n1.5 Lean yes\n0.5 Maybe",
        "otherwise": "No",
        "threshold": "0.5",
        "k": "3",
        "seed": "7",
        "opens_at": "2030-01-02T09:00",
        "closes_at": "2030-01-09T17:00",
    }


def test_the_organizer_creates_a_ballot_from_the_form(client, olga, group, other_group, ballot_form):
    client.force_login(olga)
    assert client.get(url("ballot-create", "osd")).status_code == 200

    response = client.post(url("ballot-create", "osd"), ballot_form, follow=True)

    assert response.redirect_chain == [(ballot_url("ballot", key="second-look"), 302)]
    assert page_messages(response) == ["Ballot “Second look at 0.0.9” created. It opens by itself at its opening time."]
    ballot = Ballot.objects.get()
    assert (ballot.title, ballot.status, ballot.results_visibility, ballot.created_by) == (
        "Second look at 0.0.9",
        "scheduled",
        "after_close",
        olga,
    )
    assert set(ballot.groups.all()) == {group, other_group}
    assert list(ballot.criteria.values_list("key", "label")) == [("use", "Use"), ("study", "Study it")]
    assert list(
        ballot.choices.values_list("key", "label", "value", "requires_grant", "blocking", "requires_rationale")
    ) == [
        ("yes", "Yes", 1, False, False, False),
        ("abstain", "Abstain", 0, False, False, False),
        ("no", "Not necessary", -1, True, True, True),
    ]
    assert ballot.methodology == {
        "rule": "mean-bands",
        "bands": [{"min": 2.0, "label": "Yes"}, {"min": 1.5, "label": "Lean yes"}, {"min": 0.5, "label": "Maybe"}],
        "otherwise": "No",
    }
    assert ballot.clustering == {"k": 3, "seed": 7}
    assert (ballot.opens_at.isoformat(), ballot.closes_at.isoformat()) == (
        "2030-01-02T09:00:00+00:00",
        "2030-01-09T17:00:00+00:00",
    )
    assert actions() == ["ballot.created"]
    assert "Yes ≥ 2.0μ, Lean yes ≥ 1.5μ, Maybe ≥ 0.5μ; otherwise No." in text(response)


def test_a_majority_ballot_records_its_threshold(client, olga, ballot_form):
    client.force_login(olga)

    client.post(url("ballot-create", "osd"), ballot_form | {"rule": "majority", "threshold": "0.667", "bands": ""})

    assert Ballot.objects.get().methodology == {"rule": "majority", "threshold": 0.667}


MALFORMED_ROWS = {
    "criteria key": (
        "criteria-2-key",
        "b@d",
        "Criteria, row 3, key: “b@d” is not a valid key: use letters, digits and hyphens, such as use.",
    ),
    "criteria long key": (
        "criteria-0-key",
        "u" * 33,
        "Criteria, row 1, key: The key is 33 characters long; at most 32.",
    ),
    "criteria no key": ("criteria-1-label", "Modify", "Criteria, row 2, key: Give this criterion a key, such as use."),
    "criteria no label": (
        "criteria-0-label",
        "",
        "Criteria, row 1, label: Give this criterion a label, as voters will read it.",
    ),
    "criteria long label": (
        "criteria-0-label",
        "U" * 65,
        "Criteria, row 1, label: Ensure this value has at most 64 characters (it has 65).",
    ),
    "choices key": (
        "choices-0-key",
        "y s",
        "Choice scale, row 1, key: “y s” is not a valid key: use letters, digits and hyphens, such as use.",
    ),
    "choices no label": (
        "choices-0-label",
        "",
        "Choice scale, row 1, label: Give this choice a label, as voters will read it.",
    ),
    "choices no value": (
        "choices-1-value",
        "",
        "Choice scale, row 2, value: Give the choice a value, a whole number such as 1, 0 or −1.",
    ),
    "choices value": ("choices-1-value", "minus one", "Choice scale, row 2, value: “minus one” is not a whole number."),
    "choices fraction": ("choices-1-value", "0.5", "Choice scale, row 2, value: “0.5” is not a whole number."),
    "choices huge": (
        "choices-1-value",
        "99999999999",
        "Choice scale, row 2, value: The choice abstain counts for 99999999999, but a choice's value is a whole number"
        " from -2147483648 to 2147483647.",
    ),
}


@pytest.mark.parametrize("field, value, message", MALFORMED_ROWS.values(), ids=MALFORMED_ROWS.keys())
def test_a_malformed_row_is_named_by_its_field_and_nothing_is_written(
    field, value, message, client, olga, ballot_form, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form | {field: value})

    assert response.status_code == 200
    assert message in text(response)


def test_criteria_and_choices_are_offered_as_rows_with_the_usual_scale(client, olga, published):
    client.force_login(olga)

    form = client.get(url("ballot-create", "osd")).context["form"]

    assert [f.initial["key"] for f in form.criteria_rows.forms[:4]] == ["use", "study", "modify", "share"]
    assert len(form.criteria_rows.forms) == 4 + 3  # and three empty rows to add more
    assert [f.initial["key"] for f in form.choice_rows.forms[:3]] == ["required", "abstain", "not-necessary"]


MALFORMED_LINES = {
    "bands word": ("bands", "2 Yes\nhigh Maybe", "Line 2: start with a number, such as 1.5."),
    "bands nan": ("bands", "2 Yes\nnan Maybe", "Line 2: A band needs a finite number as its minimum, not nan."),
    "bands inf": ("bands", "inf Yes", "Line 1: A band needs a finite number as its minimum, not inf."),
    "bands no label": ("bands", "2 Yes\n1.5", "Line 2: A band needs a label, the name of its outcome (such as Yes)."),
    "bands huge": (
        "bands",
        "1e308 Yes",
        "Line 1: The minimum of a band is a multiple of the mean score μ, from -1000000 to 1000000; "
        "1e+308 is beyond that.",
    ),
    "bands ascending": (
        "bands",
        "1 Maybe\n\n2 Yes",
        "Bands go from the highest minimum to the lowest, each minimum once.",
    ),
}


@pytest.mark.parametrize("field, value, message", MALFORMED_LINES.values(), ids=MALFORMED_LINES.keys())
def test_a_malformed_line_is_named_and_nothing_is_written(
    field, value, message, client, olga, ballot_form, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form | {field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in text(response)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"criteria-2-key": "use", "criteria-2-label": "Again"}, "Each criterion key may appear once: use appears"),
        (
            {"criteria-0-key": "", "criteria-0-label": "", "criteria-2-key": "", "criteria-2-label": ""},
            "Give at least one criterion.",
        ),
        ({"bands": "1 Maybe\n2 Yes"}, "Bands go from the highest minimum to the lowest, each minimum once."),
        ({"bands": ""}, "mean-bands needs bands"),
        ({"otherwise": ""}, "mean-bands needs an `otherwise` label"),
        ({"closes_at": "2030-01-01T09:00"}, "A ballot closes after it opens."),
        ({"criteria-TOTAL_FORMS": "25"}, "Please submit at most 24 forms."),
        ({"key": "components"}, "This definition already has a ballot with key components."),
    ],
)
def test_an_inconsistent_ballot_says_why_and_writes_nothing(
    changes, message, client, olga, scheduled, ballot_form, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form | changes)

    assert response.status_code == 200
    assert message in text(response)


def test_the_description_is_shown_as_markdown_rendered_when_the_ballot_was_created(client, olga, ballot_form):
    client.force_login(olga)
    ballot_form["description"] = "Is each component *required*?\n\n- see [the charter](https://example.org/charter)"

    response = client.post(url("ballot-create", "osd"), ballot_form, follow=True)

    content = response.content.decode()
    assert '<div class="prose ballot-description"><p>Is each component <em>required</em>?</p>' in content
    assert '<a href="https://example.org/charter" rel="nofollow noopener noreferrer">the charter</a>' in content
    assert "*required*" not in content


def test_a_description_over_the_limit_is_refused_with_the_reason_and_nothing_is_written(
    client, olga, ballot_form, nothing_written
):
    client.force_login(olga)
    ballot_form["description"] = "x" * (DESCRIPTION_MAX_LENGTH + 1)

    with nothing_written():
        response = client.post(url("ballot-create", "osd"), ballot_form)

    assert response.status_code == 200
    assert f"Ensure this value has at most {DESCRIPTION_MAX_LENGTH} characters" in text(response)


def test_the_ballot_page_shows_the_stored_description_and_renders_no_markdown(client, olga, ballot_form):
    client.force_login(olga)
    client.post(url("ballot-create", "osd"), ballot_form)

    with mock.patch.object(markdown._markdown, "render", side_effect=AssertionError("Markdown rendered")):
        response = client.get(ballot_url("ballot", key="second-look"))

    assert "<em>required</em>" in response.content.decode()
