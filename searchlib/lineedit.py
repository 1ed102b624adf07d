"""Line editing for the REPL: history kept across sessions, completion, Ctrl-C clears the line.

With the optional ``repl`` extra (prompt_toolkit, what pgcli, litecli and IPython use)
:func:`line_reader` returns a reader with a history file, completion of commands, field names
and the index's entity names, and Ctrl-C clearing the line. Without it, the reader falls back
to ``input()`` with readline, which keeps the same history file where readline exists. Either
way the reader raises ``EOFError`` at end of input (Ctrl-D) and ``KeyboardInterrupt`` on Ctrl-C,
which the REPL treats as "clear the line".
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from searchlib.query import FIELDS

__all__ = ["COMMANDS", "ReplCompleter", "completions", "default_history_path", "line_reader"]

COMMANDS = (
    "clear",
    "collapse",
    "date",
    "dups",
    "entity",
    "facets",
    "filters",
    "help",
    "like",
    "limit",
    "more",
    "prev",
    "quit",
    "recent",
    "related",
    "show",
    "sort",
    "source",
    "stats",
    "timeline",
)
"""REPL commands offered for completion after ``:``."""

ENTITY_FIELDS = ("entity", "person", "org", "place")
_WORD = re.compile(r'(?:\w+:)?"[^"]*$|[^\s()"]+$')

Reader = Callable[[str], str]


def default_history_path() -> Path:
    """``$SEARCHLIB_HISTORY``, else ``$XDG_STATE_HOME/searchlib/history`` (``~/.local/state/...``)."""
    given = os.environ.get("SEARCHLIB_HISTORY")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "searchlib" / "history"


def _quote(name: str) -> str:
    return f'"{name}"' if not re.fullmatch(r"[\w.-]+", name) else name


def completions(text_before_cursor: str, entity_names: Sequence[str]) -> Iterator[tuple[str, int]]:
    """(completion, start position relative to the cursor) for the word before the cursor.

    ``:mo`` → ``:more``; ``tit`` → ``title:``; ``entity:hal`` → ``entity:"Halina Wrzosek"``;
    ``:entity Hal`` → ``"Halina Wrzosek"``; a bare word also completes to entity names.
    """
    stripped = text_before_cursor.lstrip()
    if stripped.startswith(":") and " " not in stripped:
        typed = stripped[1:]
        for command in COMMANDS:
            if command.startswith(typed):
                yield ":" + command, -len(stripped)
        return
    if re.match(r":entity\s", stripped):
        typed = stripped.split(None, 1)[1] if len(stripped.split(None, 1)) > 1 else ""
        bare = typed.lstrip('"').casefold()
        for name in entity_names:
            if name.casefold().startswith(bare):
                yield _quote(name), -len(typed)
        return
    match = _WORD.search(text_before_cursor)
    word = match.group(0) if match else ""
    field, _, value = word.rpartition(":") if ":" in word else ("", "", word)
    bare = value.lstrip('"').casefold()
    if field in ENTITY_FIELDS:
        for name in entity_names:
            if name.casefold().startswith(bare):
                yield f"{field}:{_quote(name)}", -len(word)
        return
    if field or not word:
        return
    for name in sorted(set(FIELDS)):
        if name.startswith(word.casefold()):
            yield name + ":", -len(word)
    for name in entity_names:
        if name.casefold().startswith(bare) and len(bare) >= 2:
            yield _quote(name), -len(word)


def ReplCompleter(entity_names: Iterable[str]) -> Any:
    """A prompt_toolkit ``Completer`` over :func:`completions`."""
    from prompt_toolkit.completion import Completer, Completion

    names = tuple(entity_names)

    class _Completer(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
            for text, start in completions(document.text_before_cursor, names):
                yield Completion(text, start_position=start)

    return _Completer()


def line_reader(
    entity_names: Iterable[str] = (),
    *,
    history: Path | None = None,
    session_options: dict[str, Any] | None = None,
) -> Reader:
    """A function ``read(prompt) -> line`` for an interactive terminal (see the module docstring).

    ``session_options`` go to prompt_toolkit's ``PromptSession`` (tests pass ``input`` and ``output``).
    """
    path = history or default_history_path()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
    except ImportError:
        return _readline_reader(path)
    session: Any = PromptSession(
        history=FileHistory(str(path)),
        completer=ReplCompleter(entity_names),
        complete_while_typing=False,
        **(session_options or {}),
    )

    def read(prompt: str) -> str:
        line: str = session.prompt(prompt)
        return line

    return read


def _readline_reader(path: Path) -> Reader:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return input
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    import atexit

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    atexit.register(save)
    return input
