"""Comments and definition texts are Markdown from anyone: only inert HTML may come out.

Rendered on its own, and on the real pages it is shown on, after being posted through their
forms: the comment threads (plain and htmx), a draft's text and a release's notes.
"""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from deliberation.markdown import render_markdown
from deliberation.models import Comment
from tests.client import HTMX, form_data
from tests.fuzzing import fuzz, rolled_back
from votes import services as votes

ALLOWED_TAGS = set(
    """a abbr blockquote br code del em h1 h2 h3 h4 h5 h6 hr
    li ol p pre strong s table tbody td th thead tr ul img""".split()
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
SAFE_SCHEMES = ("http", "https", "mailto")
SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")


class Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would parse it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def url_scheme(url: str) -> str | None:
    """The scheme a browser reads in a URL (C0 controls and spaces around it dropped, tabs and newlines
    anywhere), lowercased; None for a relative URL, which stays on this site."""
    url = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    match = SCHEME.match(url)
    return match.group(1).lower() if match else None


def assert_inert(html: str) -> None:
    """Only the allowed tags, with only their allowed attributes, and links to nowhere but the web and e-mail."""
    assert "<script" not in html.lower()
    for tag, attrs in Elements(html).elements:
        assert tag in ALLOWED_TAGS, f"<{tag}> survived in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name}= survived in {html!r}"
            assert name in ALLOWED_ATTRIBUTES.get(tag, ()), f"<{tag} {name}=> survived in {html!r}"
            if name in ("href", "src"):
                assert url_scheme(value or "") in (None, *SAFE_SCHEMES), f"{name}={value!r} survived"


HOSTILE = {
    "script": "<script>alert(1)</script>",
    "script-uppercase": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "script-in-a-paragraph": "Hello <script>alert(document.cookie)</script> world",
    "img-onerror": '<img src="x" onerror="alert(1)">',
    "svg-onload": "<svg onload=alert(1)>",
    "div-onclick": '<div onclick="steal()">click me</div>',
    "a-with-handler": '<a href="https://ok.example" onmouseover="steal()">ok</a>',
    "raw-a-javascript": '<a href="javascript:alert(1)">x</a>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "object": '<object data="https://evil.example/x.swf"></object>',
    "style": "<style>body { display: none }</style>",
    "form": '<form action="https://evil.example"><input name="password"></form>',
    "html-comment": "<!-- <script>alert(1)</script> -->",
    "md-link-javascript": "[click](javascript:alert(1))",
    "md-link-javascript-mixed-case": "[click](JaVaScRiPt:alert(1))",
    "md-link-javascript-entity": "[click](&#106;avascript:alert(1))",
    "md-link-vbscript": "[click](vbscript:msgbox(1))",
    "md-link-data-html": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md-image-javascript": "![x](javascript:alert(1))",
    "md-image-data": "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "md-image-data-svg": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "autolink-javascript": "<javascript:alert(1)>",
    "reference-link-javascript": "[click][x]\n\n[x]: javascript:alert(1)",
    "title-breakout": '[a](https://ok.example "t" onmouseover="x")',
    "html-block": "<div>\n<img src=x onerror=alert(1)>\n</div>",
    "html-block-script": "<script>\nalert(1)\n</script>\n\ntext",
    "unclosed-script": "<script>alert(1)",
    "script-in-a-table": "| a |\n|---|\n| <script>alert(1)</script> |",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "math-xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "details-ontoggle": "<details open ontoggle=alert(1)>",
    "style-attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "htmx-attribute": '<a hx-get="/api/" hx-on:click="alert(1)">x</a>',
    "nested-mismatched": "<b><i>x</b></i><a href='javascript:alert(1)'><script>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base-href": '<base href="javascript:alert(1)//">',
    "embed": '<embed src="javascript:alert(1)">',
    "textarea-breakout": "</textarea><script>alert(1)</script>",
    "raw-href-entity-tab": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "md-link-entity-tab": "[click](jav&#x09;ascript:alert(1))",
    "md-link-entity-colon": "[click](javascript&colon;alert(1))",
    "md-link-hex-entities": "[click](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
    "md-link-tab-in-scheme": "[click](java\tscript:alert(1))",
    "md-link-control-before": "[click](\x01javascript:alert(1))",
    "md-link-space-before": "[click]( javascript:alert(1))",
    "md-link-angle-brackets": "[click](<javascript:alert(1)>)",
    "md-link-percent-encoded": "[click](javascript%3Aalert(1))",
    "md-link-file": "[click](file:///etc/passwd)",
    "md-image-vbscript": "![x](vbscript:msgbox(1))",
    "md-image-title-breakout": '![x](https://ok.example/a.png "t\\" onerror=\\"alert(1)")',
    "reference-image-javascript": "![x][y]\n\n[y]: javascript:alert(1)",
    "autolink-data": "<data:text/html,<script>alert(1)</script>>",
    "autolink-vbscript": "<vbscript:msgbox(1)>",
    "code-span": "`<script>alert(1)</script>`",
    "null-in-tag": "<scr\x00ipt>alert(1)</script>",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_comes_out_inert(text):
    assert_inert(render_markdown(text))


@pytest.mark.parametrize(
    "text", [HOSTILE["script"], HOSTILE["img-onerror"], HOSTILE["iframe"], HOSTILE["raw-a-javascript"]]
)
def test_raw_html_is_shown_as_text_not_run(text):
    html = render_markdown(text)

    assert "&lt;" in html
    assert [tag for tag, _ in Elements(html).elements] == ["p"]


def test_a_javascript_link_is_not_a_link():
    html = render_markdown("[click](javascript:alert(1))")

    assert "href" not in html


def test_a_data_url_image_loses_its_source():
    (img,) = [
        attrs
        for tag, attrs in Elements(render_markdown("![pixel](data:image/png;base64,AAAA)")).elements
        if tag == "img"
    ]

    assert "src" not in img
    assert img["alt"] == "pixel"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("*emphasis*", "<em>emphasis</em>"),
        ("**strong**", "<strong>strong</strong>"),
        ("~~struck~~", "<s>struck</s>"),
        ("`code`", "<code>code</code>"),
        ("# Title", "<h1>Title</h1>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
        ("```\nx = 1\n```", "<pre><code>x = 1\n</code></pre>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>\n<td>2</td>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<th>a</th>"),
        ("[the OSI](https://opensource.org)", '<a href="https://opensource.org" rel="nofollow noopener noreferrer">'),
        ("[write](mailto:chair@example.org)", 'href="mailto:chair@example.org"'),
        ("<https://example.org>", '<a href="https://example.org"'),
        ("![logo](https://example.org/logo.png)", '<img src="https://example.org/logo.png" alt="logo">'),
    ],
)
def test_normal_markdown_renders(text, fragment):
    html = render_markdown(text)

    assert fragment in html
    assert_inert(html)


def test_links_never_pass_on_the_referrer_or_ranking():
    html = render_markdown("[x](https://example.org)")

    assert Elements(html).elements == [
        ("p", {}),
        ("a", {"href": "https://example.org", "rel": "nofollow noopener noreferrer"}),
    ]


@pytest.mark.parametrize("text", ["", None])
def test_no_text_renders_as_nothing(text):
    assert render_markdown(text) == ""


# Anything at all --------------------------------------------------------------------------------------------------

PIECES = [
    *"[]()<>`*_|!=\"'/:;#&\n\t",
    "![", "</", "/>", "```", "\n\n", "    ", "---", "&#", "&#x", "09;", "&colon;", "&lt;", "%0a", "%3A", "//",
    "javascript", "JaVaScRiPt", "vbscript", "data", "text/html,", "image/svg+xml;base64,", "alert(1)",
    "script", "img", "svg", "iframe", "a", " href=", " src=", " onerror=", " onload=", " style=", " hx-get=",
    "\x00", "\x01", "\u200b", "\u202e", "https://ok.example", "mailto:x@example.org", "[x]: ",
]  # fmt: skip
MARKDOWN = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(list(HOSTILE.values())), st.text(max_size=8)), max_size=16
).map("".join)


@fuzz(300)
@given(MARKDOWN)
@example("[a](jav&#x09;ascript:alert(1))")
@example("![x](data:image/png;base64,iVBORw0KGgo=)")
def test_no_markdown_at_all_renders_to_anything_that_runs(text):
    assert_inert(render_markdown(text))


# On the pages ----------------------------------------------------------------------------------------------------

DOCUMENT = "\n\n".join(text for text in HOSTILE.values() if "\x00" not in text)  # a form refuses NUL


def prose(html: str) -> list[str]:
    """The parts of a page rendered from Markdown."""
    return re.findall(r'<div class="prose[^"]*">(.*?)</div>', html, re.S)


def assert_the_page_runs_only_its_own_code(html: str) -> None:
    """No handler, no script but the site's own files, no link that runs; each Markdown part inert."""
    for tag, attrs in Elements(html).elements:
        assert not [name for name in attrs if name.startswith("on")], f"<{tag} {attrs}>"
        assert tag not in ("iframe", "object", "embed", "base", "frame", "svg", "math"), f"<{tag}>"
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), f"<script {attrs}>"
        for name in ("href", "src", "action", "formaction"):
            if name in attrs:
                assert url_scheme(attrs[name] or "") in (None, *SAFE_SCHEMES), f"<{tag} {name}={attrs[name]!r}>"
    for part in prose(html):
        assert_inert(part)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_hostile_markdown_in_a_comment_is_stored_as_written_and_shown_inert(client, bob, published, htmx):
    client.force_login(bob)
    path = reverse("deliberation:comment-create", args=["osd", "0.0.9"])

    response = client.post(path, {"body": DOCUMENT}, headers=HTMX if htmx else {})

    comment = Comment.objects.get()
    assert comment.body == DOCUMENT.strip()
    page = response if htmx else client.get(response.url)
    html = page.content.decode()
    assert str(comment.body_html) in html
    assert_the_page_runs_only_its_own_code(html)
    history = client.get(reverse("deliberation:comment-history", args=[comment.pk])).content.decode()
    assert_the_page_runs_only_its_own_code(history)


def test_hostile_markdown_in_a_draft_and_its_release_notes_is_shown_inert(client, olga, draft):
    client.force_login(olga)
    edit, publish = (reverse(f"deliberation:{name}", args=["osd", "0.0.10"]) for name in ("draft-edit", "publish"))
    client.post(edit, form_data(client.get(edit), label="0.0.10", body=DOCUMENT))
    client.post(publish, form_data(client.get(publish), release_notes=DOCUMENT))

    draft.refresh_from_db()
    assert (draft.is_published, draft.body, draft.release_notes) == (True, DOCUMENT.strip(), DOCUMENT.strip())
    html = client.get(draft.get_absolute_url()).content.decode()
    assert str(draft.body_html) in html and str(draft.release_notes_html) in html
    assert len(prose(html)) == 2
    assert_the_page_runs_only_its_own_code(html)


def test_hostile_markdown_in_a_ballots_description_is_shown_inert(client, olga, published, group):
    ballot = votes.create_ballot(
        version=published,
        key="hostile",
        title="Hostile",
        description=DOCUMENT,
        groups=[group],
        criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}],
        acting_user=olga,
    )

    html = client.get(ballot.get_absolute_url()).content.decode()
    assert str(ballot.description_html) in html and ballot.description_html == render_markdown(DOCUMENT)
    assert len(prose(html)) == 1
    assert_the_page_runs_only_its_own_code(html)


@fuzz(15)
@given(text=MARKDOWN)
def test_any_comment_is_shown_inert_in_the_thread(client, bob, published, text):
    with rolled_back(client, bob):
        response = client.post(
            reverse("deliberation:comment-create", args=["osd", "0.0.9"]),
            {"body": text},
            headers=HTMX,
        )

        assert response.status_code == 200
        assert_the_page_runs_only_its_own_code(response.content.decode())
