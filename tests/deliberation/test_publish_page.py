"""Publishing a release is asked on its own page, which states what becomes fixed and public, and publishes only
the draft as that page showed it."""

import pytest
from django.core.exceptions import ValidationError

from deliberation import services
from deliberation.models import DraftVersion
from tests.client import form_data, text
from tests.deliberation.pages import url


def test_the_publish_page_states_what_publishing_makes_fixed_and_public(client, olga, draft):
    services.update_draft(version=draft, label="0.0.10", body="Reworded.", acting_user=olga)
    services.post_comment(author=olga, version=draft, body="Check the wording.")
    services.post_comment(author=olga, version=draft, component=draft.components.get(key="code"), body="And this.")
    client.force_login(olga)

    page = text(client.get(url("publish", "osd", "0.0.10")))

    assert "Publish Open System Definition 0.0.10?" in page
    assert "The text and its 3 components (1 of them aggregate) become fixed" in page
    assert "with its 2 revisions and the 2 comments written on the draft, so far seen by the organizers only" in page
    assert "Ballots can then be created on 0.0.10." in page


def test_the_publish_page_says_when_an_aggregate_without_parts_prevents_publishing(client, olga, draft):
    draft.components.get(key="all-data").parts.clear()  # the services never leave it so; the page still says why
    client.force_login(olga)

    page = text(client.get(url("publish", "osd", "0.0.10")))

    assert "It cannot be published yet: the aggregate all-data has no parts." in page


def test_opening_the_publish_page_publishes_nothing(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        assert client.get(url("publish", "osd", "0.0.10")).status_code == 200


def test_the_version_page_only_links_to_the_publish_page(client, olga, draft):
    client.force_login(olga)

    page = client.get(url("version", "osd", "0.0.10")).content.decode()

    assert f'href="{url("publish", "osd", "0.0.10")}"' in page
    assert f'action="{url("publish", "osd", "0.0.10")}"' not in page


def test_a_post_from_another_page_publishes_nothing(client, olga, draft, nothing_written):
    """A form elsewhere that posts release notes alone, as one click there would."""
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("publish", "osd", "0.0.10"), {"release_notes": "Sneaky release."})

    assert response.status_code == 200
    assert "This page does not say what was reviewed; open the publish page again." in text(response)


def test_a_draft_changed_after_the_publish_page_was_opened_is_not_published(client, olga, draft, nothing_written):
    client.force_login(olga)
    page = client.get(url("publish", "osd", "0.0.10"))
    services.add_component(
        version=draft, fields={"key": "docs", "title": "Docs", "category": "Documentation"}, acting_user=olga
    )

    with nothing_written():
        refused = client.post(url("publish", "osd", "0.0.10"), form_data(page, release_notes="Reviewed."))

    assert refused.status_code == 200
    assert "changed after this page was opened (its text or its components); nothing was published" in text(refused)
    assert "<code>docs</code> added" in refused.content.decode()  # the page now shows the draft as it is
    assert "its 4 components" in text(refused)

    published = client.post(url("publish", "osd", "0.0.10"), form_data(refused, release_notes="Reviewed."))

    assert published.status_code == 302
    assert DraftVersion.objects.get(pk=draft.pk).is_published


def test_the_service_refuses_a_release_of_another_text_than_the_one_reviewed(draft, olga, nothing_written):
    reviewed = services.version_digest(draft)
    services.update_draft(version=draft, label="0.0.10", body="Changed meanwhile.", acting_user=olga)

    with nothing_written(), pytest.raises(ValidationError, match="changed after this page was opened"):
        services.publish_version(version=draft, release_notes="R.", acting_user=olga, reviewed_digest=reviewed)
