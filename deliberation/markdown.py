"""Markdown to safe HTML: markdown-it-py renders CommonMark, nh3 strips anything executable.

A comment's `@handle` mentions are found here (`mentions`) and, given the pages they link to, rendered as links
(`render_markdown(text, mention_links=…)`): both read the same tokens, so what is linked is what is notified. A
mention is `@` then a handle's characters, at the start of a word, outside code and outside another link; an
address such as alice@example.org is not one.
"""

import re
from collections.abc import Mapping

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .handles import normalize

# `@` not inside a word or an address, then a handle's characters (Django's, less `@`); a final "." ends a sentence.
MENTION = re.compile(r"(?<![\w@.+-])@(\w[\w.+-]*)")


def _mention_rule(state: StateCore) -> None:
    """Collect each mention in env["mentions"]; link those env["mention_links"] has a page for."""
    found: list[str] = state.env.setdefault("mentions", [])
    links: Mapping[str, str] = state.env.get("mention_links") or {}
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, depth = [], 0
        for token in block.children:
            depth += (token.type == "link_open") - (token.type == "link_close")
            if token.type != "text" or depth or "@" not in token.content:
                children.append(token)
                continue
            children.extend(_split(token, found, links))
        block.children = children


def _split(token: Token, found: list[str], links: Mapping[str, str]) -> list[Token]:
    out, start, text = [], 0, token.content
    for match in MENTION.finditer(text):
        written = match.group(1).rstrip(".")
        handle = normalize(written)
        if handle not in found:
            found.append(handle)
        href = links.get(handle)
        if href is None:
            continue
        if match.start() > start:
            out.append(_text(text[start : match.start()], token.level))
        link = Token("link_open", "a", 1, level=token.level, attrs={"href": href, "class": "mention"})
        out += [link, _text("@" + written, token.level + 1), Token("link_close", "a", -1, level=token.level)]
        start = match.start() + 1 + len(written)
    if start == 0:
        return [token]
    if start < len(text):
        out.append(_text(text[start:], token.level))
    return out


def _text(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
_markdown.core.ruler.push("mentions", _mention_rule)

_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "img",
    "s",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
_CLASSES = {"a": {"mention"}}  # only the mentions' links carry a class; nothing a writer types can set one


def mentions(text: str) -> list[str]:
    """The handles `text` mentions (`@handle`), each once, in the order written."""
    env: dict = {}
    _markdown.parse(text or "", env)
    return env["mentions"]


def render_markdown(text: str, *, mention_links: Mapping[str, str] | None = None) -> SafeString:
    """Safe HTML of `text`; each mention whose handle `mention_links` holds becomes a link to its page."""
    html = _markdown.render(text or "", {"mention_links": mention_links or {}})
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 -- nh3 has removed every script, handler and unsafe URL
