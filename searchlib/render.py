"""Rendering snippets: plain text with markers, ANSI colour for terminals, escaped HTML."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from searchlib.models import Snippet

__all__ = ["ELLIPSIS", "neutralise_controls", "render_ansi", "render_html", "render_plain", "render_sparkline"]

ELLIPSIS = "…"
ANSI_BOLD_YELLOW = "\x1b[1;33m"
ANSI_RESET = "\x1b[0m"


_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\t\n"}
_CONTROL_PICTURES.update({ord(c): 0x20 for c in "\r\x0b\x0c\x1c\x1d\x1e\x1f"})  # other whitespace: a space
_CONTROL_PICTURES[0x7F] = 0x2421  # ␡
_CONTROL_PICTURES.update({code: 0xFFFD for code in range(0x80, 0xA0)})  # C1 controls (0x9B is a CSI)


def neutralise_controls(text: str) -> str:
    """``text`` with control characters shown as symbols (ESC as ␛, BEL as ␇, C1 controls as �).

    Tabs and newlines stay; carriage returns and other whitespace controls become spaces.
    One character replaces one, so offsets (snippet spans) still hold. Stored articles keep
    their text as given; every output path (plain, ANSI, HTML, the CLI and the REPL) passes
    it through this, so an article or a query cannot move the cursor, retitle the terminal
    or clear the screen.
    """
    return text.translate(_CONTROL_PICTURES)


def _html_escape(text: str) -> str:
    return html.escape(neutralise_controls(text), quote=True)


def _render(snippet: Snippet, before: str, after: str, escape: Callable[[str], str], ellipsis: bool) -> str:
    parts: list[str] = []
    if ellipsis and snippet.truncated_start:
        parts.append(ELLIPSIS)
    cursor = 0
    text = snippet.text
    for span in snippet.spans:
        parts.append(escape(text[cursor : span.start]))
        parts.append(before + escape(text[span.start : span.end]) + after)
        cursor = span.end
    parts.append(escape(text[cursor:]))
    if ellipsis and snippet.truncated_end:
        parts.append(ELLIPSIS)
    return "".join(parts)


def _flatten(text: str) -> str:
    return " ".join(text.split())


def render_plain(snippet: Snippet, *, before: str = "[", after: str = "]", ellipsis: bool = True) -> str:
    """``…the [hostage] [talks] could…``: markers around matches, whitespace folded to one line."""
    return _flatten(_render(snippet, before, after, neutralise_controls, ellipsis))


def render_ansi(
    snippet: Snippet, *, style: str = ANSI_BOLD_YELLOW, reset: str = ANSI_RESET, ellipsis: bool = True
) -> str:
    """Matches in bold yellow (or ``style``) for a terminal."""
    return _flatten(_render(snippet, style, reset, neutralise_controls, ellipsis))


def render_html(snippet: Snippet, *, tag: str = "mark", ellipsis: bool = True) -> str:
    """HTML-escaped text with matches wrapped in ``<mark>`` (or ``tag``)."""
    if not tag.isalnum():
        raise ValueError(f"tag must be an element name, not {tag!r}")
    return _render(snippet, f"<{tag}>", f"</{tag}>", _html_escape, ellipsis)


SPARK_BARS = "▁▂▃▄▅▆▇█"


def render_sparkline(counts: Sequence[int]) -> str:
    """One character per count, ``▁`` (zero or the least) to ``█`` (the most); a space for zero."""
    top = max(counts, default=0)
    if top <= 0:
        return " " * len(counts)
    steps = len(SPARK_BARS) - 1
    return "".join(" " if c <= 0 else SPARK_BARS[round(c / top * steps)] for c in counts)
