import re


def suggest_next_label(label: str) -> str:
    """The label a next draft would likely take: the last number goes up by one.

    >>> suggest_next_label("0.0.9"), suggest_next_label("1.0-rc1"), suggest_next_label("draft")
    ('0.0.10', '1.0-rc2', 'draft-2')
    """
    match = re.search(r"(\d+)(?!.*\d)", label)
    if match is None:
        return f"{label}-2"
    return f"{label[: match.start()]}{int(match.group()) + 1}{label[match.end() :]}"
