"""The deliberation pages that list things need the same number of queries for many rows as for a few: the
definition list, a definition, a version with its discussion and a component.
"""

import pytest
from django.utils import timezone

from deliberation.models import DraftVersion, Membership
from tests.client import sign_in
from tests.deliberation.pages import url
from tests.factories import (
    CommentFactory,
    ComponentFactory,
    DefinitionFactory,
    DraftVersionFactory,
    MembershipFactory,
    UserFactory,
    WorkingGroupFactory,
)


def add_definitions(olga, n: int) -> None:
    for _ in range(n):
        definition = DefinitionFactory()
        definition.organizers.add(olga)
        DraftVersionFactory(definition=definition)
        DraftVersionFactory(definition=definition)
        WorkingGroupFactory(definition=definition)


def add_discussion(version: DraftVersion, n: int) -> None:
    """n more components (some in new categories, one more aggregate) and threads with replies."""
    agg = ComponentFactory(version=version, category="Data", aggregate_rule="sum")
    for i in range(n):
        part = ComponentFactory(version=version, category=f"Category {i}")
        agg.parts.add(part)
        top = CommentFactory(version=version, author=UserFactory())
        CommentFactory(version=version, author=UserFactory(), parent=top)
        CommentFactory(version=version, author=UserFactory(), component=part)
        CommentFactory(
            version=version,
            author=UserFactory(),
            parent=top,
            hidden_at=timezone.now(),
            hidden_by=UserFactory(),
            hidden_reason="Spam.",
        )
        DraftVersionFactory(definition=version.definition)


def add_roster(definition, n: int) -> None:
    for _ in range(n):
        group = WorkingGroupFactory(definition=definition)
        MembershipFactory(group=group)
        MembershipFactory(group=group, role=Membership.Role.CHAIR)
        definition.organizers.add(UserFactory())


def assert_same_queries_when_the_data_grows(client, path, grow, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as small:
        assert client.get(path).status_code == 200
    grow()
    with django_assert_max_num_queries(limit) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_definition_list_needs_the_same_queries_for_many_definitions(
    persona, request, client, olga, published, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    assert_same_queries_when_the_data_grows(
        client, url("definition-list"), lambda: add_definitions(olga, 5), django_assert_max_num_queries, limit=5
    )


@pytest.mark.parametrize("persona", [None, "bob", "olga"])
def test_the_definition_page_needs_the_same_queries_for_many_versions_and_groups(
    persona, request, client, published, draft, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)

    def grow():
        add_roster(published.definition, 5)
        for _ in range(5):
            DraftVersionFactory(definition=published.definition)

    assert_same_queries_when_the_data_grows(
        client, url("definition", "osd"), grow, django_assert_max_num_queries, limit=11
    )  # 10, and one for the Follow/Unfollow button: does the signed-in person follow the definition


@pytest.mark.parametrize("persona", [None, "bob", "olga"])
def test_the_version_page_needs_the_same_queries_for_many_components_and_comments(
    persona, request, client, published, draft, group, django_assert_max_num_queries
):
    sign_in(client, request, persona)
    add_discussion(published, 1)

    assert_same_queries_when_the_data_grows(
        client,
        url("version", "osd", "0.0.9"),
        lambda: add_discussion(published, 5),
        django_assert_max_num_queries,
        limit=14,  # with the suggestions on the version
    )


@pytest.mark.parametrize("persona", [None, "olga"])
def test_the_component_page_needs_the_same_queries_for_many_parts_and_versions(
    persona, request, client, olga, published, draft, django_assert_max_num_queries
):
    sign_in(client, request, persona)
    agg = published.components.get(key="all-data")
    CommentFactory(version=published, component=agg, author=olga)

    def grow():
        for i in range(5):
            agg.parts.add(ComponentFactory(version=published, key=f"part-{i}"))
            version = DraftVersionFactory(definition=published.definition)
            ComponentFactory(version=version, key="all-data")

    assert_same_queries_when_the_data_grows(
        client, url("component", "osd", "0.0.9", "all-data"), grow, django_assert_max_num_queries, limit=12
    )
