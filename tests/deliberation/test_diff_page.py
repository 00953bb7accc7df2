"""The diff page: two versions side by side or inline, the components added, removed and changed, and a
draft in progress kept from those who may not see it. The diff itself is tested in test_diff.py.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
"""

import re

import pytest

from deliberation import services
from tests.client import page_messages, sign_in
from tests.deliberation.pages import url

OLD_LINE = "A system is open when anyone can use, study, modify and share it."
NEW_LINE = "A system is open when anyone may use, study, modify and share it, for any purpose."


@pytest.fixture
def two_releases(published, olga):
    """0.0.10 changes a line of text, removes code, adds docs and retitles data; both are published."""
    draft = services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)
    draft = services.update_draft(
        version=draft,
        label="0.0.10",
        body=published.body.replace(OLD_LINE, NEW_LINE) + "\nAdded line.\n",
        acting_user=olga,
    )
    services.remove_component(component=draft.components.get(key="code"), acting_user=olga)
    services.add_component(
        version=draft, fields={"key": "docs", "title": "Docs", "category": "Documentation"}, acting_user=olga
    )
    services.update_component(
        component=draft.components.get(key="data"), fields={"title": "Training data sets"}, acting_user=olga
    )
    return services.publish_version(version=draft, release_notes="Second.", acting_user=olga)


def component_change_rows(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<tr class="(added|removed|changed)">\s*<th scope="row"><code>([^<]+)</code>', html))


def test_the_side_by_side_diff_shows_removed_and_added_lines(client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="diff side"' in html
    assert f'<td class="text del">{OLD_LINE}</td>' in html
    assert f'<td class="text ins">{NEW_LINE}</td>' in html
    assert '<td class="text ins">Added line.</td>' in html


def test_the_inline_diff_shows_removed_and_added_lines(client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10", "view": "inline"})

    html = response.content.decode()
    assert 'class="diff inline"' in html
    rows = re.findall(r'<tr class="(del|ins|)">.*?<td class="text">(.*?)</td>', html, re.S)
    assert ("del", OLD_LINE) in rows
    assert ("ins", NEW_LINE) in rows
    assert ("ins", "Added line.") in rows
    assert ("", "# Preamble") in rows


@pytest.mark.parametrize("view", ["side", "inline"])
def test_the_diff_lists_components_added_removed_and_changed(view, client, two_releases):
    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10", "view": view})

    assert component_change_rows(response.content.decode()) == {
        ("removed", "code"),
        ("added", "docs"),
        ("changed", "data"),
    }


def test_without_labels_the_diff_compares_the_last_two_versions(client, two_releases):
    response = client.get(url("diff", "osd"))

    assert (response.context["old"].label, response.context["new"].label) == ("0.0.9", "0.0.10")


def test_a_version_compared_with_itself_has_no_changes(client, published):
    html = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.9"}).content.decode()

    assert "The text is the same." in html
    assert "The components are the same." in html


@pytest.mark.parametrize(
    "query", [{"from": "nope", "to": "0.0.10"}, {"from": "0.0.9", "to": "1.0"}, {"from": "<script>", "to": ""}]
)
def test_unknown_labels_give_a_clear_message(query, client, two_releases):
    response = client.get(url("diff", "osd"), query)

    assert response.status_code == 200
    assert page_messages(response) == ["That version does not exist here; choose two versions from the lists."]
    assert b"<script>" not in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_the_diff_does_not_reveal_a_draft_in_progress(persona, request, client, group, draft, olga):
    services.update_draft(version=draft, label="0.0.10", body="Secret wording.", acting_user=olga)
    sign_in(client, request, persona)

    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    assert page_messages(response) == ["That version does not exist here; choose two versions from the lists."]
    assert b"Secret wording." not in response.content
    assert b'<option value="0.0.10"' not in response.content


def test_the_organizer_diffs_the_draft_in_progress(client, olga, draft):
    services.update_draft(version=draft, label="0.0.10", body="Secret wording.", acting_user=olga)
    client.force_login(olga)

    response = client.get(url("diff", "osd"), {"from": "0.0.9", "to": "0.0.10"})

    assert b'<td class="text ins">Secret wording.</td>' in response.content


def test_with_one_version_there_is_nothing_to_compare(client, published):
    assert b"nothing to compare yet" in client.get(url("diff", "osd")).content
