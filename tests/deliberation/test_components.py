"""The components of a draft: `add_component`, `update_component` and `remove_component`, leaves and
aggregates, the audit row each writes, and what each refuses.

A refused call raises and leaves every row as it was, the audit log included (`nothing_written`).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from deliberation import services
from deliberation.models import Component

from .conftest import aggregate, last_event, leaf


def test_organizer_adds_a_component_at_the_end(draft, olga):
    last = draft.components.order_by("-position").first().position

    component = services.add_component(
        version=draft,
        fields={**leaf("docs", "Usage documentation", "Documentation"), "description": "How to run it."},
        acting_user=olga,
    )

    assert component.version == draft
    assert component.position == last + 1
    assert (component.title, component.category, component.description) == (
        "Usage documentation",
        "Documentation",
        "How to run it.",
    )
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.added", "olga", str(component.pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "docs",
        "title": "Usage documentation",
        "category": "Documentation",
        "aggregate": None,
    }


def test_the_first_component_of_an_empty_draft_is_at_position_one(definition, olga):
    draft = services.start_draft(definition=definition, label="0.1", acting_user=olga)

    assert services.add_component(version=draft, fields=leaf("code"), acting_user=olga).position == 1


def test_organizer_adds_an_aggregate_of_parts(draft, olga):
    code, data = draft.components.get(key="code"), draft.components.get(key="data")

    agg = services.add_component(
        version=draft, fields=aggregate("everything", "sum"), parts=[data, code], acting_user=olga
    )

    assert agg.is_aggregate
    assert set(agg.parts.all()) == {code, data}
    assert last_event().payload["aggregate"] == {"rule": "sum", "of": ["code", "data"]}


def test_one_part_may_feed_several_aggregates(draft, olga):
    data = draft.components.get(key="data")

    services.add_component(version=draft, fields=aggregate("data-sum"), parts=[data], acting_user=olga)

    assert set(data.aggregates.values_list("key", flat=True)) == {"all-data", "data-sum"}


@pytest.mark.parametrize(
    "fields, part_keys, message",
    [
        (aggregate("agg"), [], "needs at least one part"),
        (leaf("leafy"), ["code"], "Choose a rule"),
        (aggregate("agg"), ["all-data"], "cannot be a part"),
        (leaf("code"), [], "already has a component with key code"),
        ({**leaf("x"), "key": "not a slug"}, [], "slug"),
        ({**leaf("x"), "title": ""}, [], "blank"),
        ({**leaf("x"), "aggregate_rule": "median"}, ["code"], "median"),
    ],
    ids=[
        "aggregate-without-parts",
        "parts-without-rule",
        "aggregate-of-aggregate",
        "duplicate-key",
        "bad-key",
        "no-title",
        "unknown-rule",
    ],
)
def test_add_component_refuses_malformed_components(fields, part_keys, message, draft, olga, nothing_written):
    parts = [draft.components.get(key=k) for k in part_keys]

    with nothing_written(), pytest.raises(ValidationError, match=message):
        services.add_component(version=draft, fields=fields, parts=parts, acting_user=olga)


def test_parts_come_from_the_same_version(draft, published, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="cannot be a part"):
        services.add_component(
            version=draft, fields=aggregate("agg"), parts=[published.components.get(key="code")], acting_user=olga
        )


def test_organizer_changes_a_component(draft, olga):
    code = draft.components.get(key="code")

    services.update_component(component=code, fields={"title": "Code used for training"}, acting_user=olga)

    code.refresh_from_db()
    assert code.title == "Code used for training"
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.changed", "olga", str(code.pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "code",
        "title": "Code used for training",
        "category": "Code",
        "aggregate": None,
    }


def test_an_aggregate_can_change_its_rule_and_parts(draft, olga):
    agg, code = draft.components.get(key="all-data"), draft.components.get(key="code")

    services.update_component(component=agg, fields={"aggregate_rule": "sum"}, parts=[code], acting_user=olga)

    agg.refresh_from_db()
    assert agg.aggregate_rule == "sum"
    assert list(agg.parts.all()) == [code]
    assert last_event().payload["aggregate"] == {"rule": "sum", "of": ["code"]}


def test_an_aggregate_can_become_a_leaf_again(draft, olga):
    agg = draft.components.get(key="all-data")

    services.update_component(component=agg, fields={"aggregate_rule": ""}, parts=[], acting_user=olga)

    agg.refresh_from_db()
    assert not agg.is_aggregate
    assert not agg.parts.exists()
    assert not draft.components.get(key="data").aggregates.exists()


def test_a_part_of_an_aggregate_cannot_become_an_aggregate(draft, olga, nothing_written):
    data, code = draft.components.get(key="data"), draft.components.get(key="code")

    with nothing_written(), pytest.raises(ValidationError, match="part of an aggregate"):
        services.update_component(component=data, fields={"aggregate_rule": "sum"}, parts=[code], acting_user=olga)


def test_an_aggregate_cannot_be_its_own_part(draft, olga, nothing_written):
    agg = draft.components.get(key="all-data")
    code = draft.components.get(key="code")
    services.update_component(
        component=code, fields={"aggregate_rule": "sum"}, parts=[draft.components.get(key="data")], acting_user=olga
    )
    code.refresh_from_db()

    with nothing_written(), pytest.raises(ValidationError, match="cannot be a part"):
        services.update_component(component=code, fields={}, parts=[code], acting_user=olga)
    assert agg.parts.count() == 1


def test_a_component_cannot_take_the_key_of_another(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already has a component with key data"):
        services.update_component(component=draft.components.get(key="code"), fields={"key": "data"}, acting_user=olga)


def test_organizer_removes_a_component(draft, olga):
    code = draft.components.get(key="code")
    pk = code.pk

    services.remove_component(component=code, acting_user=olga)

    assert not Component.objects.filter(pk=pk).exists()
    event = last_event()
    assert (event.action, event.actor_handle, event.subject_id) == ("component.removed", "olga", str(pk))
    assert event.payload == {
        "version": "0.0.10",
        "key": "code",
        "title": "Training code",
        "category": "Code",
        "aggregate": None,
    }


def test_removing_an_aggregate_frees_its_parts(draft, olga):
    services.remove_component(component=draft.components.get(key="all-data"), acting_user=olga)

    assert last_event().payload["aggregate"] == {"rule": "mean", "of": ["data"]}
    assert not draft.components.get(key="data").aggregates.exists()


def test_a_part_used_by_an_aggregate_cannot_be_removed(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="part of all-data"):
        services.remove_component(component=draft.components.get(key="data"), acting_user=olga)


COMPONENT_CHANGES = {
    "add": lambda v, u: services.add_component(version=v, fields=leaf("new"), acting_user=u),
    "update": lambda v, u: services.update_component(
        component=v.components.get(key="code"), fields={"title": "Mine"}, acting_user=u
    ),
    "remove": lambda v, u: services.remove_component(component=v.components.get(key="code"), acting_user=u),
}


@pytest.mark.parametrize("change", COMPONENT_CHANGES.values(), ids=COMPONENT_CHANGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_organizers_change_components(change, persona, request, draft, nothing_written):
    request.getfixturevalue(persona)  # the persona exists before nothing_written looks
    with nothing_written(), pytest.raises(PermissionDenied):
        change(draft, request.getfixturevalue(persona))
