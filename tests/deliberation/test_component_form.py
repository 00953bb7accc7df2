"""The component form prevents mistakes: categories from the definition's list (a near-duplicate is filed under
the existing spelling, with a message), keys made from titles, and each refusal shown at its field."""

import re

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from deliberation import services
from tests.client import page_messages, text
from tests.deliberation.pages import url


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def create(client, **data):
    fields = {"title": "", "key": "", "category": "", "new_category": "", "description": "", "aggregate_rule": ""}
    return client.post(url("component-create", "osd", "0.0.10"), fields | data, follow=True)


def test_the_category_is_chosen_from_those_the_definition_uses(client, olga, draft):
    client.force_login(olga)

    page = client.get(url("component-create", "osd", "0.0.10")).content.decode()

    select = re.search(r'<select name="category"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r"<option value=\"([^\"]*)\"", select) == ["", "Code", "Data"]
    assert 'name="new_category"' in page


def test_a_new_category_differing_only_in_case_or_spacing_is_filed_under_the_existing_one(client, olga, draft):
    client.force_login(olga)

    response = create(client, title="Training code, again", key="code-2", new_category="  code ")

    assert draft.components.get(key="code-2").category == "Code"
    assert "“code” is filed under the existing category Code." in page_messages(response)


def test_a_new_category_is_added_tidied(client, olga, draft):
    client.force_login(olga)

    create(client, title="Model weights", new_category="  Model   parameters ")

    assert draft.components.get(key="model-weights").category == "Model parameters"
    assert AuditEvent.objects.order_by("-seq").first().payload["category"] == "Model parameters"


def test_the_service_files_a_near_duplicate_under_the_existing_spelling_too(draft, olga):
    component = services.add_component(
        version=draft, fields={"key": "evals", "title": "Evals", "category": "data_"}, acting_user=olga
    )

    assert component.category == "Data"


def test_a_category_both_chosen_and_typed_differently_is_refused_at_the_new_category(
    client, olga, draft, nothing_written
):
    client.force_login(olga)

    with nothing_written():
        response = create(client, title="Evals", category="Code", new_category="Data")

    assert field_errors(response, "new_category") == ["You chose Code and typed Data: keep one and empty the other."]


def test_a_component_without_a_category_is_refused_at_the_category(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = create(client, title="Evals")

    assert field_errors(response, "category") == ["Choose a category from the list, or type a new one below it."]


def test_a_category_not_in_the_list_is_refused(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = create(client, title="Evals", category="Made up")

    assert field_errors(response, "category")


def test_a_key_left_blank_is_made_from_the_title(client, olga, draft):
    client.force_login(olga)

    create(client, title="Évaluation données & code (v2)", category="Data")

    assert draft.components.filter(key="evaluation-donnees-code-v2").exists()


def test_a_key_taken_in_the_version_is_refused_at_the_key(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = create(client, title="Code", category="Code")  # its key would be "code", which is taken

    assert field_errors(response, "key") == ["This version already has a component with key code; choose another key."]


def test_a_title_no_key_can_be_made_from_is_refused_at_the_key(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = create(client, title="!!!", category="Code")

    assert field_errors(response, "key") == ["Give a key: none can be made from this title (letters and digits)."]


def test_service_refusals_name_their_field(draft, olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as refused:
        services.add_component(
            version=draft,
            fields={"key": "agg", "title": "Agg", "category": "Data", "aggregate_rule": "sum"},
            acting_user=olga,
        )

    assert refused.value.message_dict == {"parts": ["An aggregate needs at least one part."]}


def test_the_new_component_form_loads_the_script_that_makes_keys_from_titles(client, olga, draft):
    client.force_login(olga)

    new = client.get(url("component-create", "osd", "0.0.10")).content.decode()
    edit = client.get(url("component-edit", "osd", "0.0.10", "code")).content.decode()

    assert "js/component_form.js" in new and "data-key-from-title" in new
    assert "data-key-from-title" not in edit  # an existing key stays as it is
    assert "Left blank, it is made from the title." in text(client.get(url("component-create", "osd", "0.0.10")))
