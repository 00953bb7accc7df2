"""The deliberation pages' URLs; how to ask and read any page is in tests/client.py.

ORGANIZER_PAGES are the pages where organizers edit a version, each by the version's label.
"""

from django.urls import reverse


def url(name: str, *args) -> str:
    return reverse(f"deliberation:{name}", args=args)


ORGANIZER_PAGES = {
    "draft-edit": lambda label: url("draft-edit", "osd", label),
    "publish": lambda label: url("publish", "osd", label),
    "component-create": lambda label: url("component-create", "osd", label),
    "component-edit": lambda label: url("component-edit", "osd", label, "code"),
}
