"""The deliberation pages' URLs; how to ask and read any page is in tests/client.py.

ORGANIZER_PAGES are the pages where organizers edit a version, each by the version's label.
"""

import html
import re

from django.urls import reverse


def url(name: str, *args) -> str:
    return reverse(f"deliberation:{name}", args=args)


ORGANIZER_PAGES = {
    "draft-edit": lambda label: url("draft-edit", "osd", label),
    "publish": lambda label: url("publish", "osd", label),
    "component-create": lambda label: url("component-create", "osd", label),
    "component-edit": lambda label: url("component-edit", "osd", label, "code"),
}


def their_text(response) -> str:
    """On an editor that refused a stale save: the text saved meanwhile, shown beside one's own."""
    found = re.search(r'<pre class="revision" id="their-text">(.*?)</pre>', response.content.decode(), re.S)
    assert found, "no text saved meanwhile on this page"
    return html.unescape(found.group(1))
