"""Addresses nobody links to: the pages' filters and path parts filled with hostile text, never a 500.

A NUL character can be in no label, key, handle or filter value, and PostgreSQL refuses it in a
query; an address holding one is answered 400 with the reason, before any view runs. Anything
else gets the page (its filters matching nothing), a message, or a 404.
"""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzzing import fuzz, rolled_back, text
from tests.votes.conftest import ballot, cast, scheduled  # noqa: F401 (fixtures)

BALLOT = "/d/osd/ballots/components"
FILTERS = {
    f"{BALLOT}/roll-call/": ["group", "voter", "component", "choice", "flag", "page"],
    f"{BALLOT}/disputes/": ["voter", "group", "choice", "component", "criterion"],
    "/d/osd/diff/": ["from", "to", "view"],
    "/d/osd/groups/weights/": ["at"],
    "/audit/": ["stream", "action", "actor", "page"],
}
PATHS = ["/d/osd/v/{}/", "/d/osd/v/0.0.9/c/{}/", BALLOT + "/vote/{}/", "/d/{}/", "/d/osd/groups/{}/"]


@pytest.fixture
def everything(request, draft, alice, bob):
    """The open ballot with two votes, and a draft in progress."""
    vote = request.getfixturevalue("cast")
    vote(alice, "code", "use", "required")
    vote(bob, "code", "use", "object", rationale="Not yet.")
    return request.getfixturevalue("ballot")


@fuzz(30)
@given(
    persona=st.sampled_from([None, "olga"]),
    page=st.sampled_from(sorted(FILTERS)),
    values=st.lists(text(60), min_size=1, max_size=6),
)
@example(persona="olga", page=f"{BALLOT}/roll-call/", values=["weights", "\x00"])
@example(persona="olga", page=f"{BALLOT}/disputes/", values=["\x00", "\x00", "\x00", "\x00", "\x00"])
@example(persona=None, page="/audit/", values=["ballot:osd/components\x00"])
@example(persona=None, page="/d/osd/groups/weights/", values=["99999-12-31"])
def test_a_page_filtered_by_anything_answers_without_failing(request, client, everything, persona, page, values):
    query = dict(zip(FILTERS[page], values, strict=False))
    with rolled_back(client, request.getfixturevalue(persona) if persona else None):
        response = client.get(f"{page}?{urlencode(query)}")

        if any("\x00" in value for value in query.values()):
            assert response.status_code == 400
            assert b"NUL character" in response.content
        else:
            assert response.status_code == 200


@fuzz(30)
@given(persona=st.sampled_from([None, "olga"]), path=st.sampled_from(PATHS), part=text(60).filter(bool))
@example(persona="olga", path="/d/osd/v/{}/", part="0.0.9\x00")
@example(persona="olga", path=BALLOT + "/vote/{}/", part="\x00")
def test_an_address_with_anything_in_its_path_answers_without_failing(request, client, everything, persona, path, part):
    with rolled_back(client, request.getfixturevalue(persona) if persona else None):
        response = client.get(path.format(quote(part, safe="")))

        assert response.status_code < 500
        if "\x00" in part:
            assert response.status_code == 400
