"""Comments and definition texts are Markdown from anyone: only inert HTML may come out."""

from html.parser import HTMLParser

import pytest

from deliberation.markdown import render_markdown

ALLOWED_TAGS = set(
    """a abbr blockquote br code del em h1 h2 h3 h4 h5 h6 hr
    li ol p pre strong s table tbody td th thead tr ul img""".split()
)
SAFE_SCHEMES = ("http:", "https:", "mailto:")


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


def assert_inert(html: str) -> None:
    for tag, attrs in Elements(html).elements:
        assert tag in ALLOWED_TAGS, f"<{tag}> survived in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name}= survived in {html!r}"
            if name in ("href", "src"):
                assert (value or "").strip().lower().startswith(SAFE_SCHEMES), f"{name}={value!r} survived"


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
