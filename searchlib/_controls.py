"""Control characters made visible, for every path that writes user text to a terminal or a page."""

from __future__ import annotations

import unicodedata

__all__ = ["display_width", "neutralise_controls"]

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


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK, emoji) characters two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width
