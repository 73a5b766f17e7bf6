"""The fields of a :class:`RunConfig` as a vocabulary: one parser for experiment files
(values as TOML gives them) and for ``--set FIELD=VALUE`` (values as text).

Each field has a kind taken from its annotation. A value of the wrong kind fails with a
``ValueError`` naming the field, the value and what the field takes; an unknown field name
fails naming the nearest valid one. Range and choice checks stay with ``RunConfig`` itself.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import fields

from .config import RunConfig

__all__ = ["FIELDS", "KINDS", "nearest", "unknown_field", "from_toml", "from_text",
           "parse_assignment", "NONE"]

NONE = "none"  # how a file or --set spells "unset" for an optional field (TOML has no null)

# annotation -> (kind, optional)
_KINDS = {"str": ("str", False), "bool": ("bool", False), "int": ("int", False),
          "float": ("float", False), "float | None": ("float", True),
          "int | None": ("int", True), "tuple[int, ...]": ("ints", False)}
KINDS: dict[str, tuple[str, bool]] = {f.name: _KINDS[str(f.type)] for f in fields(RunConfig)}
FIELDS: tuple[str, ...] = tuple(KINDS)

_WHAT = {"str": "a string", "bool": "true or false", "int": "an integer",
         "float": "a number", "ints": "a list of integers (e.g. [128, 64], or 128,64 with --set)"}


def nearest(name: str, valid) -> str | None:
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_field(name: str, valid=FIELDS) -> str:
    """The message for an unknown field: the nearest valid name, then all of them."""
    guess = nearest(name, valid)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return f"unknown field {name!r}{hint}; valid: {', '.join(valid)}"


def _expects(name: str) -> str:
    kind, optional = KINDS[name]
    return _WHAT[kind] + (f" or {NONE!r}" if optional else "")


def _bad(name: str, value) -> ValueError:
    return ValueError(f"{name} expects {_expects(name)}, got {value!r}")


def from_toml(name: str, value):
    """``value`` as a file gives it (str, bool, int, float or list), checked against the
    kind of field ``name`` and converted (a list of widths becomes a tuple)."""
    if name not in KINDS:
        raise ValueError(unknown_field(name))
    kind, optional = KINDS[name]
    if optional and value == NONE:
        return None
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if (kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value)):
        return float(value)
    if kind == "ints" and isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise _bad(name, value)


def from_text(name: str, text: str):
    """``text`` as given on a command line, converted like a file's value."""
    if name not in KINDS:
        raise ValueError(unknown_field(name))
    kind, optional = KINDS[name]
    text = text.strip()
    if optional and text.lower() == NONE:
        return None
    try:
        if kind == "str":
            return text
        if kind == "bool":
            return {"true": True, "false": False}[text.lower()]
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        return tuple(int(part) for part in text.split(",") if part.strip())
    except (ValueError, KeyError):
        raise _bad(name, text) from None


def parse_assignment(text: str) -> tuple[str, object]:
    """``"hidden=128,64"`` -> ``("hidden", (128, 64))``."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"expected FIELD=VALUE (e.g. lr=0.05 or hidden=128,64), got {text!r}")
    return name, from_text(name, value)
