"""Every interface string is translatable, and the French catalogue is whole and current (docs/translating.md).

- Each template (pages and e-mails) is read with Django's own template lexer: the text between its tags, and the
  attributes people read (aria-label, title, placeholder, alt), must hold no words outside `{% translate %}` and
  `{% blocktranslate %}`, but for the few names and symbols in ALLOWED. A new template with a bare sentence fails
  here, naming file and text.
- `locale/fr/LC_MESSAGES/django.po` has no entry left untranslated or fuzzy (read with polib), and running
  makemessages over the tree again would neither add nor drop an entry: the catalogue is current.
- The French catalogue compiles and is used: a page asked for in French says French, and English stays the default;
  dates read each language's way; notifications are written in the site's language, whoever caused them.
"""

import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from notifications.models import Kind, Notification
from votes import services

BASE = Path(settings.BASE_DIR)
CATALOGUE = BASE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# The folders whose templates and Python code hold the interface (tests, bench and the offline verifier do not).
SOURCES = ["analysis", "audit", "config", "deliberation", "home", "notifications", "templates", "votes"]

# Words that stay as they are in every language: names, units, symbols and code. Whole tokens only.
ALLOWED = {
    "Plenary",  # the product's name
    "UTC",
    "iCalendar",
    "μ",  # the mean score, in the tally's own notation
    "S",  # a suggestion's mark in a diff, S followed by its number
    "k",
    "k=",  # the number of clusters, as the chart labels it
    "ms",  # milliseconds
}
# What people read in a tag's attributes; the rest (classes, ids, addresses, htmx) is code.
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
# Elements whose text is code or data, never a sentence: commands to copy, scripts, styles.
CODE_ELEMENTS = {"code", "pre", "script", "style"}
HOLE = "\x00"  # where a variable, a tag or a translated string stood (set apart by spaces, so a tag stays a tag)
WORD = re.compile(r"[^\W\d_]", re.UNICODE)  # a letter, in any script


def templates() -> list[Path]:
    """Every template of the interface: its pages (.html) and its e-mails (.txt)."""
    return sorted(p for folder in SOURCES for ext in ("html", "txt") for p in (BASE / folder).rglob(f"*.{ext}"))


def untranslated_text(source: str) -> str:
    """The template with everything but its literal text replaced by HOLE: variables, tags, translated strings
    (a blocktranslate with its whole body) and comments."""
    out, skipping = [], None
    for token in Lexer(source).tokenize():
        if skipping:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == skipping:
                skipping = None
            continue
        if token.token_type == TokenType.TEXT:
            out.append(token.contents)
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans"):
                skipping = "end" + name
            elif name == "comment":
                skipping = "endcomment"
        out.append(f" {HOLE} ")
    return "".join(out)


class _Words(HTMLParser):
    """Collects the text people read that is not translated: element text and read attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.code_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in CODE_ELEMENTS:
            self.code_depth += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in CODE_ELEMENTS and self.code_depth:
            self.code_depth -= 1

    def handle_data(self, data):
        if not self.code_depth:
            self._check(data)

    def _check(self, text: str) -> None:
        words = [w for w in text.replace(HOLE, " ").split() if w.strip(".,:;()·—–-→←…") not in ALLOWED]
        if any(WORD.search(w.strip(".,:;()·—–-→←…")) for w in words if w.strip(".,:;()·—–-→←…")):
            self.found.append(" ".join(text.replace(HOLE, "…").split()))


def unmarked(path: Path) -> list[str]:
    parser = _Words()
    if path.suffix == ".txt":  # an e-mail's text: no markup to skip
        parser.handle_data(untranslated_text(path.read_text()))
    else:
        parser.feed(untranslated_text(path.read_text()))
        parser.close()
    return parser.found


def test_the_checker_finds_a_bare_sentence_and_passes_a_translated_one(tmp_path):
    bare = tmp_path / "bare.html"
    bare.write_text('{% load i18n %}<p title="Open it">Vote now</p><a aria-label="{{ x }} unread">{{ n }}</a>')
    marked = tmp_path / "marked.html"
    marked.write_text(
        '{% load i18n %}<p title="{% translate "Open it" %}">{% translate "Vote now" %}</p>'
        "{% blocktranslate count n=n %}{{ n }} vote{% plural %}{{ n }} votes{% endblocktranslate %}"
        "<code>pip install plenary-tally</code> Plenary · {{ when }} UTC"
    )

    assert unmarked(bare) == ["Open it", "Vote now", "… unread"]
    assert unmarked(marked) == []


# The pages of webhooks, sign-in providers, search and access tokens were written beside the translations and are
# not marked yet: both checks fail until they are (strict: they fail here too the day they pass, to drop this).
NOT_YET_MARKED = pytest.mark.xfail(
    strict=True, reason="webhook, sign-in provider, search and token pages are not marked for translation yet"
)


@NOT_YET_MARKED
def test_every_template_string_is_marked_for_translation():
    found = {str(p.relative_to(BASE)): unmarked(p) for p in templates()}

    assert len(found) > 50, "the templates of the interface"
    assert {name: texts for name, texts in found.items() if texts} == {}


def _entries(path: Path) -> set[tuple[str, str, str]]:
    return {(e.msgctxt or "", e.msgid, e.msgid_plural or "") for e in polib.pofile(str(path)) if not e.obsolete}


def test_the_french_catalogue_has_every_string_translated_and_none_fuzzy():
    catalogue = polib.pofile(str(CATALOGUE))

    assert len(catalogue) > 500, "the interface's strings"
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert [e.msgid for e in catalogue.obsolete_entries()] == []
    assert catalogue.percent_translated() == 100


@pytest.mark.slow
@NOT_YET_MARKED
def test_makemessages_would_add_or_drop_nothing(tmp_path, monkeypatch):
    """The catalogue is current: makemessages, run over the same sources, yields exactly its entries."""
    assert shutil.which("xgettext"), "GNU gettext is needed (Debian package gettext)"
    for folder in SOURCES:
        (tmp_path / folder).symlink_to(BASE / folder, target_is_directory=True)
    shutil.copytree(BASE / "locale", tmp_path / "locale")
    monkeypatch.chdir(tmp_path)

    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("makemessages", locale=["fr"], symlinks=True, no_obsolete=True, verbosity=0)

    assert _entries(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po") == _entries(CATALOGUE)


def test_the_french_catalogue_compiles_without_a_warning(tmp_path):
    assert shutil.which("msgfmt"), "GNU gettext is needed (Debian package gettext)"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(CATALOGUE)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


# The language of an answer, dates in it, and the language of notifications ---------------------------------------


@pytest.mark.django_db
def test_a_request_that_asks_for_no_language_gets_english_and_one_that_asks_for_french_gets_french(client):
    english = client.get(reverse("deliberation:definition-list"))
    french = client.get(reverse("deliberation:definition-list"), headers={"accept-language": "fr-CA,fr;q=0.9"})

    assert '<html lang="en">' in english.text and "<h1>Definitions</h1>" in english.text
    assert '<html lang="fr">' in french.text and "<h1>Définitions</h1>" in french.text


@pytest.mark.django_db
def test_the_language_chosen_with_the_switcher_wins_over_the_browsers(client):
    definitions = reverse("deliberation:definition-list")
    response = client.post(reverse("set_language"), {"language": "fr", "next": definitions})

    assert response.status_code == 302 and response["Location"] == definitions
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert "<h1>Définitions</h1>" in client.get(definitions, headers={"accept-language": "en"}).text


@pytest.mark.parametrize(
    "language, date, when",
    [("en", "5 Mar 2025", "5 Mar 2025, 14:30"), ("fr", "5 mars 2025", "5 mars 2025 à 14:30")],
)
def test_dates_read_as_each_language_writes_them(language, date, when):
    moment = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)
    with translation.override(language):
        assert (date_format(moment, "DATE_FORMAT"), date_format(moment, "DATETIME_FORMAT")) == (date, when)


def _open_a_ballot(olga, published, group, key: str):
    ballot = services.create_ballot(
        version=published,
        key=key,
        title=f"Vote {key}",
        groups=[group],
        criteria=[("use", "Use")],
        choices=[{"key": "required", "label": "Required", "value": 1}],
        acting_user=olga,
    )
    return services.open_ballot(ballot=ballot, acting_user=olga)


@pytest.mark.django_db
def test_notifications_are_written_in_the_sites_language_whoever_caused_them(olga, published, group, bob):
    with translation.override("fr"):  # an organizer whose browser asks for French opens a ballot
        _open_a_ballot(olga, published, group, "first")
    with override_settings(LANGUAGE_CODE="fr"), translation.override("en"):  # a French site; this browser asks English
        _open_a_ballot(olga, published, group, "second")

    told = Notification.objects.filter(recipient=bob, kind=Kind.BALLOT_OPENED).order_by("pk")
    subjects = list(told.values_list("subject", flat=True))
    assert subjects == ["Voting opened: Vote first", "Vote ouvert : Vote second"]
