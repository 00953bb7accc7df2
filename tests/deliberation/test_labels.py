import pytest
from django.core.exceptions import ValidationError

from deliberation.labels import suggest_next_label
from deliberation.models import label_validator


@pytest.mark.parametrize(
    "label, expected",
    [
        ("0.0.9", "0.0.10"),
        ("0.0.10", "0.0.11"),
        ("1.0", "1.1"),
        ("1", "2"),
        ("1.0-rc1", "1.0-rc2"),
        ("1.0-rc9", "1.0-rc10"),
        ("2.0-beta", "2.1-beta"),
        ("0.9.0+build7", "0.9.0+build8"),
        ("v1", "v2"),
        ("draft", "draft-2"),
    ],
)
def test_the_next_label_raises_the_last_number(label, expected):
    assert suggest_next_label(label) == expected


@pytest.mark.parametrize("label", ["0.0.9", "1.0-rc1", "draft", "2.0-beta", "0.9.0+build7", "v1"])
def test_a_suggested_label_is_itself_a_valid_label(label):
    label_validator(suggest_next_label(label))


@pytest.mark.parametrize("label", ["", " 1.0", "1.0 rc1", "-1", ".1", "1/2", "0.1<script>"])
def test_labels_refuse_spaces_leading_punctuation_and_markup(label):
    with pytest.raises(ValidationError):
        label_validator(label)
