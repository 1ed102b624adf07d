"""Argument types of the public API checked at the call, so a wrong type is a ``TypeError`` naming it.

Python would otherwise fail later and elsewhere (``date_from=20250301`` raised
``AttributeError: 'int' object has no attribute 'strip'`` deep inside the parser). The checks
follow each function's own annotations: classes, unions and ``None``, ``Sequence[str]`` and
``Iterable`` (a string is not accepted where a sequence of strings is), ``Callable``; anything
more exotic is left unchecked.
"""

from __future__ import annotations

import collections.abc as cabc
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["typed"]

F = TypeVar("F", bound=Callable[..., Any])
_UNCHECKED = object()


def _name(hint: Any) -> str:
    if hint is type(None):
        return "None"
    if isinstance(hint, type):
        return (
            hint.__name__
            if hint.__module__ in ("builtins", "searchlib.models")
            else f"{hint.__module__}.{hint.__name__}"
        )
    return str(hint).replace("typing.", "").replace("collections.abc.", "")


def _ok(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits ``hint``; True for hints this checker does not understand."""
    if hint is Any or isinstance(hint, TypeVar):
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_ok(value, arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None) or hint is None:
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (cabc.Sequence, cabc.Iterable, cabc.Collection):
        if isinstance(value, str) or (isinstance(value, bytes) and typing.get_args(hint) != (int,)):
            return False
        if not isinstance(value, origin):
            return False
        (item,) = typing.get_args(hint) or (Any,)
        return not isinstance(value, (list, tuple)) or all(_ok(v, item) for v in value)
    if origin in (cabc.Callable,) or hint is cabc.Callable:
        return callable(value)
    if origin is not None:
        return isinstance(value, origin) if isinstance(origin, type) else True
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint) or any(value == member.value for member in hint)  # Sort("newest")
    if isinstance(hint, type):
        if getattr(hint, "_is_protocol", False):
            return True  # structural (EntityExtractor): duck-typed on purpose
        return isinstance(value, hint)
    return True


def typed(fn: F) -> F:
    """Check the annotated types of ``fn``'s arguments at each call (``self``/``cls`` excepted)."""
    signature = inspect.signature(fn)
    hints: dict[str, Any] = {}

    def resolve() -> dict[str, Any]:
        if not hints:
            hints.update(typing.get_type_hints(fn))
            hints.pop("return", None)
            hints.setdefault("__resolved__", True)
        return hints

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        known = resolve()
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{fn.__qualname__}(): {exc}") from None
        for name, value in bound.arguments.items():
            hint = known.get(name, _UNCHECKED)
            if hint is _UNCHECKED or name in ("self", "cls"):
                continue
            kind = signature.parameters[name].kind
            values = value if kind is inspect.Parameter.VAR_POSITIONAL else (value,)
            if kind is inspect.Parameter.VAR_KEYWORD:
                continue
            for item in values:
                if not _ok(item, hint):
                    raise TypeError(f"{name} must be {_name(hint)}, not {type(item).__name__} ({item!r:.60})")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
