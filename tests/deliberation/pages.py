"""The deliberation pages' URLs; how to ask and read any page is in tests/client.py."""

import html
import re

from django.urls import reverse


def url(name: str, *args) -> str:
    return reverse(f"deliberation:{name}", args=args)


def their_text(response) -> str:
    """On an editor that refused a stale save: the text saved meanwhile, shown beside one's own."""
    found = re.search(r'<pre class="revision" id="their-text">(.*?)</pre>', response.content.decode(), re.S)
    assert found, "no text saved meanwhile on this page"
    return html.unescape(found.group(1))
