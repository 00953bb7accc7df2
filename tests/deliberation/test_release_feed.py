"""The Atom feed of a definition's releases: published versions only."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from deliberation import services
from tests.deliberation.pages import url
from tests.factories import DefinitionFactory, DraftVersionFactory

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_release_feed_is_atom_listing_published_releases_only(client, published, draft):
    DraftVersionFactory(
        definition=published.definition,
        label="0.0.8",
        release_notes="The *very* first.",
        published_at=published.published_at - timedelta(days=30),
    )
    DraftVersionFactory(definition=DefinitionFactory(slug="other", title="Another Definition"), label="7.0")

    response = client.get(url("release-feed", "osd"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Open System Definition: releases"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Open System Definition 0.0.9",
        "Open System Definition 0.0.8",
    ]
    assert entries[0].find(f"{ATOM}link").get("href").endswith(url("version", "osd", "0.0.9"))
    assert "<em>very</em>" in entries[1].findtext(f"{ATOM}summary")
    assert b"0.0.10" not in response.content
    assert b"Another Definition" not in response.content


def test_the_feed_of_a_definition_without_releases_is_empty(client, definition, olga):
    services.start_draft(definition=definition, label="0.1", acting_user=olga)

    feed = ET.fromstring(client.get(url("release-feed", "osd")).content)

    assert feed.findall(f"{ATOM}entry") == []
