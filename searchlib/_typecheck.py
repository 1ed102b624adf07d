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
import threading
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


Check = Callable[[Any], bool]


def _always(_value: Any) -> bool:
    return True


def _compile(hint: Any) -> Check:
    """A predicate for ``hint``, built once per parameter (calls stay cheap: a few isinstance)."""
    if hint is Any or isinstance(hint, TypeVar):
        return _always
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_compile(arg) for arg in typing.get_args(hint)]
        if _always in parts:
            return _always
        return lambda value: any(part(value) for part in parts)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        return lambda value: value in allowed
    if hint is type(None) or hint is None:
        return lambda value: value is None
    if hint is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if origin in (cabc.Sequence, cabc.Iterable, cabc.Collection):
        args = typing.get_args(hint)
        item = _compile(args[0]) if args else _always
        bytes_ok = args == (int,)

        def sequence(value: Any) -> bool:
            if isinstance(value, str) or (isinstance(value, bytes) and not bytes_ok):
                return False
            if not isinstance(value, origin):
                return False
            return not isinstance(value, (list, tuple)) or all(item(v) for v in value)

        return sequence
    if origin is cabc.Callable or hint is cabc.Callable:
        return callable
    if origin is not None:
        return (lambda value: isinstance(value, origin)) if isinstance(origin, type) else _always
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = {member.value for member in hint}
        return lambda value: isinstance(value, hint) or (isinstance(value, str) and value in values)  # Sort("newest")
    if isinstance(hint, type):
        if getattr(hint, "_is_protocol", False):
            return _always  # structural (EntityExtractor): duck-typed on purpose
        return lambda value: isinstance(value, hint)
    return _always


def _type_only(hint: Any) -> bool:
    """Whether ``_compile(hint)``'s answer depends on the value's type alone (then a type that
    passed once always passes: the call checks it with one set lookup)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return all(_type_only(arg) for arg in typing.get_args(hint))
    if origin is typing.Literal or origin in (cabc.Sequence, cabc.Iterable, cabc.Collection):
        return False  # the value, or its items, decide
    return not (isinstance(hint, type) and issubclass(hint, enum.Enum))  # an enum: a member's value (a str) passes too


def typed(fn: F) -> F:
    """Check the annotated types of ``fn``'s arguments at each call (``self``/``cls`` excepted)."""
    signature = inspect.signature(fn)
    compiled: dict[str, tuple[Check, str, bool, set[type] | None]] = {}  # name -> (check, hint shown, *args, passed)
    positional: list[str] = []
    star: list[str] = []
    ready = threading.Event()
    preparing = threading.Lock()

    def prepare() -> None:
        # Annotations are strings until the module is fully imported: resolve at the first call.
        with preparing:
            if not ready.is_set():
                _prepare()
                ready.set()

    def _prepare() -> None:
        hints = typing.get_type_hints(fn)
        for name, param in signature.parameters.items():
            if param.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                positional.append(name)
            elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                star.append(name)
            if name in hints and name not in ("self", "cls") and param.kind is not inspect.Parameter.VAR_KEYWORD:
                many = param.kind is inspect.Parameter.VAR_POSITIONAL
                passed: set[type] | None = None if many or not _type_only(hints[name]) else set()
                compiled[name] = (_compile(hints[name]), _name(hints[name]), many, passed)

    def check(name: str, value: Any) -> None:
        entry = compiled.get(name)
        if entry is None:
            return
        test, shown, many, passed = entry
        if passed is not None and type(value) in passed:
            return  # this type passed before (a search's dozen options: ~1 us, not ~15)
        for item in value if many else (value,):
            if not test(item):
                raise TypeError(f"{name} must be {shown}, not {type(item).__name__} ({item!r:.60})")
        if passed is not None and len(passed) < 64:
            passed.add(type(value))  # a race only adds it twice

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not ready.is_set():
            prepare()
        for index, value in enumerate(args):
            if index < len(positional):
                check(positional[index], value)
            elif star:
                check(star[0], args[index:])
                break
        for name, value in kwargs.items():
            check(name, value)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
