"""Search through its page and its API, on SQLite and PostgreSQL: what each person finds, in what order, with
what snippet and link, and what is refused. What a person may not read is never found, nor counted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliberation import services
from search.text import QUERY_MAX_LENGTH
from tests.client import text
from tests.factories import DraftVersionFactory

pytestmark = pytest.mark.django_db

TEXT = "\n".join(
    [
        "# An open system",
        "",
        "A system is open when anyone can use, study, modify and share it.",
        "Its builders publish the complete training pipeline with every release.",
        "",
        "## Components",
    ]
)


def found(client, q: str, **params) -> dict:
    response = client.get(reverse("api:search"), {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def as_(client, user):
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def release(definition):
    return DraftVersionFactory(definition=definition, label="1.0", body=TEXT)


def test_a_phrase_of_a_published_version_is_found_by_anyone_and_links_to_its_line(client, release):
    answer = found(client, '"training pipeline"')

    assert answer["count"] == 1
    [hit] = answer["items"]
    assert (hit["kind"], hit["line"], hit["url"]) == ("version", 4, "/d/osd/v/1.0/?view=lines#L4")
    start, end = hit["highlights"][0]
    assert hit["snippet"][start:end].lower() in ("training", "training pipeline")  # PostgreSQL marks each word
    page = client.get(reverse("search:search"), {"q": '"training pipeline"'})
    assert 'href="/d/osd/v/1.0/?view=lines#L4"' in page.content.decode()
    assert "1 result for" in text(page)
    assert 'id="L4"' in client.get(hit["url"]).content.decode()  # the anchor is on the page linked to


def test_a_phrase_is_a_phrase_and_words_are_all_required(client, release):
    assert found(client, '"pipeline training"')["count"] == 0
    assert found(client, "pipeline training")["count"] == 1  # both words, in any order
    assert found(client, "pipeline zeppelin")["count"] == 0
    assert found(client, "pipeline or zeppelin")["count"] == 1
    assert found(client, "pipeline -release")["count"] == 0  # "release" is on the same line


@pytest.mark.parametrize("persona", [None, "carol", "bob"])
def test_a_draft_in_progress_is_not_found_nor_counted_by_those_who_may_not_read_it(
    client, request, draft, olga, group, persona
):
    services.update_draft(version=draft, label=draft.label, body="A clause on telemetry.", acting_user=olga)
    services.add_component(
        version=draft,
        fields={"key": "telemetry", "title": "Telemetry", "category": "Data", "description": "Usage reports."},
        acting_user=olga,
    )
    services.post_comment(author=olga, version=draft, body="Is telemetry in scope?")
    client = as_(client, request.getfixturevalue(persona) if persona else None)

    assert found(client, "telemetry") == {"query": "telemetry", "count": 0, "items": []}
    page = client.get(reverse("search:search"), {"q": "telemetry"})
    assert "Nothing you can read matches “telemetry”" in text(page)
    assert 'class="search-result ' not in page.content.decode()


def test_the_draft_is_found_by_its_organizer_and_by_everyone_once_published(client, draft, olga):
    services.update_draft(version=draft, label=draft.label, body="A clause on telemetry.", acting_user=olga)

    answer = found(as_(client, olga), "telemetry")
    assert [(h["kind"], h["version"]) for h in answer["items"]] == [("version", "0.0.10")]

    services.publish_version(version=draft, release_notes="Telemetry.", acting_user=olga)
    client.logout()
    assert found(client, "telemetry")["count"] == 1


def test_a_hidden_comment_is_found_by_nobody(client, published, bob, olga):
    comment = services.post_comment(author=bob, version=published, body="A remark about zeppelins.")
    hit = found(client, "zeppelin")["items"][0]
    assert (hit["kind"], hit["url"]) == ("comment", f"/d/osd/v/0.0.9/#comment-{comment.pk}")

    services.hide_comment(comment=comment, reason="Off topic.", acting_user=olga)

    for person in (None, bob, olga):  # not its author, not the organizer who hid it
        assert found(as_(client, person), "zeppelin")["count"] == 0


def test_a_title_match_ranks_above_a_mention_in_passing(client, published, draft, olga, bob):
    filler = "The working group met on Tuesday and went through every item of the list in turn."
    services.post_comment(author=bob, version=published, body=f"{filler} Provenance came up at the end.")
    # The same text, but the word in the title: a factory's component, as no service edits a release.
    published.components.filter(key="code").update(title="Provenance", description=f"{filler} It came up at the end.")

    kinds = [h["kind"] for h in found(client, "provenance")["items"]]

    assert kinds == ["component", "comment"]
    page = client.get(reverse("search:search"), {"q": "provenance"}).content.decode()
    assert page.index("/c/code/") < page.index("#comment-")


def test_snippets_are_text_with_the_matches_marked_never_html(client, published, bob):
    services.post_comment(
        author=bob,
        version=published,
        body='<script>alert("x")</script> If 3 < 4 & 5 > 2 the zeppelin <b onclick="x()">lands</b>.',
    )

    page = client.get(reverse("search:search"), {"q": "zeppelin"}).content.decode()

    assert "<script>alert" not in page and "<b onclick" not in page  # PostgreSQL's ts_headline drops tags
    assert "3 &lt; 4 &amp; 5 &gt; 2" in page and "<mark>zeppelin</mark>" in page
    hit = found(client, "zeppelin")["items"][0]
    assert "3 < 4 & 5 > 2" in hit["snippet"]  # the API's is plain text, for its reader to escape


@pytest.mark.parametrize("q", ['"', "NEAR(a b)", "title:zeppelin", "zeppelin*", "-", "a AND", "(", "'; --", "\\"])
def test_no_query_is_taken_as_the_database_s_own_syntax(client, published, q):
    assert client.get(reverse("search:search"), {"q": q}).status_code == 200
    assert client.get(reverse("api:search"), {"q": q}).status_code == 200


def test_a_query_over_the_limit_is_refused_with_a_reason(client, release):
    too_long = "pipeline " * 30

    page = client.get(reverse("search:search"), {"q": too_long})
    assert f"A search can be at most {QUERY_MAX_LENGTH} characters long; this one has 269" in text(page)
    assert "result" not in text(page)
    response = client.get(reverse("api:search"), {"q": too_long})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"A search can be at most {QUERY_MAX_LENGTH} characters")
    assert found(client, " ".join(["pipeline"] * 22).ljust(QUERY_MAX_LENGTH, "!"))["count"] == 1  # at the limit


def test_an_empty_search_says_what_can_be_searched_and_how(client, release):
    page = text(client.get(reverse("search:search"), {"q": "  "}))

    assert "Search the definitions, the text of every version you can read" in page
    assert '"training data": the phrase' in page
    assert found(client, "") == {"query": "", "count": 0, "items": []}


def test_results_come_twenty_a_page(client, published, bob):
    for n in range(25):
        services.post_comment(author=bob, version=published, body=f"Zeppelin number {n}.")

    first = client.get(reverse("search:search"), {"q": "zeppelin"})
    second = client.get(reverse("search:search"), {"q": "zeppelin", "page": 2})

    assert first.content.decode().count('class="search-result ') == 20
    assert second.content.decode().count('class="search-result ') == 5
    assert "Page 2 of 2 (25)" in text(second)
    api = found(client, "zeppelin", limit=10, offset=20)
    assert (api["count"], len(api["items"])) == (25, 5)
    everything = {
        h["url"] for offset in (0, 10, 20) for h in found(client, "zeppelin", limit=10, offset=offset)["items"]
    }
    assert len(everything) == 25  # the pages neither repeat nor skip a hit
    assert client.get(reverse("api:search"), {"q": "zeppelin", "limit": 51}).status_code == 422


def test_the_page_reads_the_same_number_of_queries_however_many_hits(client, published, bob):
    services.post_comment(author=bob, version=published, body="Zeppelin.")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("search:search"), {"q": "zeppelin"})
    for n in range(15):
        services.post_comment(author=bob, version=published, body=f"Zeppelin {n}.")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("search:search"), {"q": "zeppelin"})

    assert len(many) == len(few)
