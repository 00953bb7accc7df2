"""What a new handle may be, in one place: sign-up, the admin's "add user" and `import_tally` all ask here.

Pages, votes, grants and the audit log name people by their handle, so two handles that look
alike would let one person pass for another (`mаra` with a Cyrillic а beside `mara`). A new handle is

- stored in Unicode NFKC form: a full-width `ｍａｒａ` becomes `mara` (and is then taken if `mara` is);
- refused if it holds an invisible, formatting or control character (a zero-width space, a
  right-to-left mark), or mixes scripts beyond what one writing system uses (Latin with
  Cyrillic or Greek is refused; Japanese Han, Hiragana and Katakana together are not), as in
  Unicode TR39's "highly restrictive" level;
- refused if it looks like an existing handle: same TR39 skeleton after case folding, so
  `rnara`, `MARA`, `mаra` and `ｍａｒａ` all look like `mara`, and `0mar` like `Omar`.

The skeleton's prototypes come from Unicode's confusables.txt as the `confusable-homoglyphs`
package ships it (pairs of a look-alike and its prototype); `_prototypes` only reads them.
ASCII handles that differ by more than such a look-alike work as before.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Collection
from functools import cache

from confusable_homoglyphs import categories, confusables
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

MAX_LENGTH = 150  # Django's username column
IGNORED_SCRIPTS = {"COMMON", "INHERITED"}  # digits, punctuation, combining marks: used by every script
# Scripts one handle may mix (TR39 "highly restrictive"): any one script alone, or Latin with these East Asian sets.
ALLOWED_MIXES = [
    {"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
]


def normalize(handle: str) -> str:
    """The form a handle is stored and compared in: NFKC (full-width and other compatibility letters folded)."""
    return unicodedata.normalize("NFKC", handle)


def problem(handle: str) -> str:
    """Why `handle` cannot be a new handle whatever other accounts exist, or "" if it can."""
    if normalize(handle) != handle:
        return f"The handle “{handle}” is not in its normal form; write it as “{normalize(handle)}”."
    if len(handle) > MAX_LENGTH:
        return f"A handle has at most {MAX_LENGTH} characters; this one has {len(handle)}."
    for char in handle:
        if unicodedata.category(char)[0] in "CZ":  # control, format (zero-width, bidi), unassigned, spaces
            code, name = f"U+{ord(char):04X}", unicodedata.name(char, "unnamed")
            return f"A handle cannot hold invisible or formatting characters; this one holds {code} ({name})."
    scripts = {categories.alias(char) for char in handle} - IGNORED_SCRIPTS
    if len(scripts) > 1 and not any(scripts <= mix for mix in ALLOWED_MIXES):
        names = " and ".join(sorted(s.title() for s in scripts))
        return f"The handle “{handle}” mixes {names} letters, which can be mistaken for others; use one script."
    return ""


def skeleton(handle: str) -> str:
    """What `handle` looks like: two handles with one skeleton can be mistaken for each other (TR39, case folded)."""
    return _skeleton(_skeleton(normalize(handle)).casefold())


def lookalike(new: Collection[str]) -> tuple[str, str] | None:
    """The first (new handle, handle it looks like) among existing accounts and the other new handles, or None.

    Reads every account's handle once: a sign-up or an import compares against all of them.
    """
    seen: dict[str, str] = {}
    for handle in sorted(new):
        if (other := seen.setdefault(skeleton(handle), handle)) != handle:
            return handle, other
    existing = get_user_model().objects.exclude(username__in=new).values_list("username", flat=True)
    for handle in existing.iterator(chunk_size=2000):
        if (mine := seen.get(skeleton(handle))) is not None:
            return mine, handle
    return None


def check_new(handle: str) -> str:
    """`handle` in its stored form, or ValidationError saying why it cannot be a new account's handle."""
    handle = normalize(handle)
    if reason := problem(handle):
        raise ValidationError(reason, code="handle")
    if found := lookalike([handle]):
        raise ValidationError(looks_like(*found), code="lookalike")
    return handle


def looks_like(handle: str, other: str) -> str:
    return f"The handle “{handle}” looks like “{other}”, which is taken; choose one that cannot be mistaken for it."


def _skeleton(text: str) -> str:
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in decomposed))


@cache
def _prototypes() -> dict[str, str]:
    """Each look-alike character -> its prototype.

    The data pairs every look-alike with its prototype, both ways, so each set of characters that look alike is a
    star: the prototype at its centre, paired with all the others (the ASCII one, for a lone pair).
    """
    around: defaultdict[str, set[str]] = defaultdict(set)
    for char, homoglyphs in confusables.confusables_data.items():
        char = char.replace("\u200e", "")  # the data wraps right-to-left characters in left-to-right marks
        for homoglyph in homoglyphs:
            other = homoglyph["c"].replace("\u200e", "")
            if other != char:
                around[char].add(other)
                around[other].add(char)
    prototypes: dict[str, str] = {}
    placed: set[str] = set()
    for start in around:
        if start in placed:
            continue
        alike, todo = {start}, [start]
        while todo:
            for other in around[todo.pop()] - alike:
                alike.add(other)
                todo.append(other)
        placed |= alike
        centre = max(alike, key=lambda c: (len(around[c]), c.isascii(), -len(c), [-ord(x) for x in c]))
        prototypes.update((char, centre) for char in alike if len(char) == 1 and char != centre)
    return prototypes
