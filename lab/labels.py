"""Class names (labels) typed by people: one check used by the app and its session import.

A name is accepted when, after trimming, it is 1 to MAX_LABEL_CHARS characters, holds no
control or direction-override characters, and differs from every other class's name
(ignoring case and Unicode width forms). Any script is welcome: accents, CJK, emoji
(including joined sequences such as 👩‍🔬) and right-to-left text (עברית, العربية).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

MAX_LABEL_CHARS = 40
# Bidirectional embeddings, overrides and isolates: invisible, and they can make a name
# display as different text (as in "Trojan Source", CVE-2021-42574). Right-to-left letters
# need none of them.
_DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that Markdown, Streamlit's $math$ and its directives (:red[...], :material/x:)
# would read as formatting anywhere in a line, and "&" (an entity such as &lt; would show as
# "<"). Escaping them with a backslash shows them as typed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~$:!&])")
_FIRST_STRONG_ISOLATE, _POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


class LabelRejected(ValueError):
    """A class name that cannot be used; the message says why and what would be accepted."""


# Invisible format characters that scripts need: ZERO WIDTH NON-JOINER (Persian, Indic) and
# ZERO WIDTH JOINER (emoji sequences such as 👩‍🔬). Every other one (a zero-width space, a
# word joiner, a soft hyphen, a byte-order mark) would make two names that look the same.
_NEEDED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")


def label_key(name: str) -> str:
    """The form two names are compared in: NFKC, case-folded, inner spaces collapsed, and
    without invisible format characters (so "ab" and "a<ZWJ>b" are the same name)."""
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")
    return " ".join(unicodedata.normalize("NFKC", visible).casefold().split())


def clean_label(text: str, other_labels: Iterable[str] = ()) -> str:
    """A typed class name -> the name to use, or LabelRejected saying what is wrong.

    Args:
        text: what the person typed.
        other_labels: the names of the other classes (not the one being renamed).

    Returns:
        The name in Unicode NFC, trimmed, with runs of spaces collapsed to one.

    Raises:
        LabelRejected: empty or only spaces, longer than MAX_LABEL_CHARS characters, holding
            a control or direction-override character, or the same as another class's name.
    """
    if not isinstance(text, str):
        raise LabelRejected(f"a class name must be text, not {type(text).__name__}")
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise LabelRejected("a class name cannot be empty; type a word such as “cat”")
    if len(name) > MAX_LABEL_CHARS:
        raise LabelRejected(
            f"“{name[:20]}…” is {len(name)} characters long; at most {MAX_LABEL_CHARS} fit"
        )
    for character in name:
        category = unicodedata.category(character)
        if character in _DIRECTION_CONTROLS or category in ("Cc", "Cs"):
            raise LabelRejected(
                f"the name holds an invisible control character (U+{ord(character):04X}); "
                "type plain text (right-to-left letters are fine)"
            )
        if category == "Cf" and character not in _NEEDED_FORMAT_CHARACTERS:
            raise LabelRejected(
                f"the name holds an invisible character (U+{ord(character):04X}), which would "
                "make it look like another name; type it without"
            )
    key = label_key(name)
    for other in other_labels:
        if label_key(other) == key:
            raise LabelRejected(
                f"another class is already named “{bidi_isolate(other)}”; use a different name"
            )
    return name


def check_labels(names: Iterable[str]) -> list[str]:
    """Every name of a list checked against the ones before it; returns the cleaned names.

    Raises:
        LabelRejected: naming the position (1-based) and the problem of the first bad name.
    """
    cleaned: list[str] = []
    for position, name in enumerate(names, start=1):
        try:
            cleaned.append(clean_label(name, cleaned))
        except LabelRejected as error:
            raise LabelRejected(f"class {position}: {error}") from None
    return cleaned


def is_right_to_left(name: str) -> bool:
    """Whether the name holds right-to-left letters (Hebrew, Arabic, Syriac, Thaana...)."""
    return any(unicodedata.bidirectional(character) in ("R", "AL") for character in name)


def bidi_isolate(text: str) -> str:
    """Plain text (no HTML) in which a right-to-left name keeps its direction without
    reordering what follows it: the name between FIRST STRONG ISOLATE and POP DIRECTIONAL
    ISOLATE. Names without right-to-left letters are returned unchanged."""
    if not is_right_to_left(text):
        return text
    return f"{_FIRST_STRONG_ISOLATE}{text}{_POP_DIRECTIONAL_ISOLATE}"


# GitHub-style autolinks are also found after parsing, in the text itself (remark-gfm's
# autolink-literal transform: www., http://, https://, mailto:, xmpp:, a@b.c), where escapes
# are gone. An invisible WORD JOINER (U+2060) inside each such start breaks the match and
# changes nothing on screen.
WORD_JOINER = "\u2060"
_AUTOLINK_STARTS = re.compile(r"(?i)(www(?=\.)|(?:https?|ftp|mailto|xmpp)(?=\\:)|(?=@))")


def markdown_text(name: str) -> str:
    """A name to put inside Markdown (st.markdown, st.write): its characters shown as typed,
    never read as formatting, links or HTML: the formatting characters are escaped, and a
    WORD JOINER breaks what GitHub-style Markdown would make a link (www., http:, @)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", name)
    return _AUTOLINK_STARTS.sub(lambda m: m.group(0) + WORD_JOINER, escaped)


def plot_text(name: str) -> str:
    """A name to put in a Plotly figure (trace names, axis categories, titles, hover text):
    its characters shown as typed. Plotly reads a few HTML tags (<b>, <br>, <a>) and
    entities in any text, so <, > and & are written as entities, which it shows as typed."""
    return html.escape(name, quote=False)
