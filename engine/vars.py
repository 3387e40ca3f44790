"""Vars: declared with a default (and so a type) in pyproject.toml, given on the command line, and
rendered into SQL only as literals of their type."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ProjectError, VarError

KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "text", list: "a list of text"}


@dataclass(frozen=True)
class VarSpec:
    """One var as pyproject.toml declares it: `name = default` or `name = {default = ..., min = ...}`."""

    name: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    below: str | None = None   # another var this one must stay below (kto_bad below kto_good)

    @property
    def kind(self) -> type:
        return type(self.default)

    def describe(self) -> str:
        """What a value must be, in words.

        >>> VarSpec("min_rating", 4, 1, 5).describe()
        'an integer from 1 to 5'
        """
        text = KINDS[self.kind]
        if self.minimum is not None and self.maximum is not None:
            text += f" from {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            text += f" of at least {self.minimum:g}"
        elif self.maximum is not None:
            text += f" of at most {self.maximum:g}"
        if self.choices:
            text += " among " + ", ".join(map(str, self.choices))
        return text


@dataclass(frozen=True)
class GivenVar:
    """A value from the command line: raw text (--var, a shorthand flag) or a JSON value (--vars)."""

    name: str
    value: Any
    origin: str
    is_text: bool = True


def declare_vars(table: Mapping[str, Any]) -> dict[str, VarSpec]:
    """Turn [tool.fbt.vars] into specs, checking that each default fits its own declaration."""
    specs = {}
    for name, entry in table.items():
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"default", "min", "max", "choices", "help", "below"}
            if "default" not in entry or unknown:
                raise ProjectError(
                    f"pyproject.toml [tool.fbt.vars] {name}: expected {{default = ..., min, max, "
                    f"choices, help, below}}; fix the entry"
                )
            choices = entry.get("choices")
            spec = VarSpec(name, entry["default"], entry.get("min"), entry.get("max"),
                           tuple(choices) if choices else None, entry.get("help", ""), entry.get("below"))
        else:
            spec = VarSpec(name, entry)
        if spec.kind not in KINDS:
            raise ProjectError(f"pyproject.toml [tool.fbt.vars] {name}: unsupported default {entry!r}")
        check_value(spec, spec.default, "pyproject.toml")
        specs[name] = spec
    for spec in specs.values():
        if spec.below is not None and (spec.below not in specs or spec.kind not in (int, float)
                                       or specs[spec.below].kind not in (int, float)):
            raise ProjectError(f"pyproject.toml [tool.fbt.vars] {spec.name}: below = {spec.below!r} "
                               f"must name another numeric var, and {spec.name} must be numeric")
    try:
        check_order(specs, {name: spec.default for name, spec in specs.items()}, {})
    except VarError as e:
        raise ProjectError(f"pyproject.toml [tool.fbt.vars]: {e}") from e
    return specs


def resolve_vars(specs: Mapping[str, VarSpec], given: Iterable[GivenVar]) -> dict[str, Any]:
    """Defaults overlaid with the command line's values, each checked against its declaration."""
    values = {name: spec.default for name, spec in specs.items()}
    origins: dict[str, str] = {}
    for item in given:
        spec = specs.get(item.name)
        if spec is None:
            hint = suggest(item.name, specs) or f" Declared vars: {', '.join(sorted(specs))}"
            raise VarError(f"Unknown var '{item.name}' (from {item.origin}).{hint}")
        value = coerce(spec, item.value) if item.is_text else item.value
        values[item.name] = check_value(spec, value, item.origin)
        origins[item.name] = item.origin
    check_order(specs, values, origins)
    return values


def check_order(specs: Mapping[str, VarSpec], values: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """Each var declared `below = "other"` must be less than other's value; else a VarError."""
    def said(name: str) -> str:
        return f"{name}={json.dumps(values[name])} (from {origins.get(name, 'pyproject.toml')})"

    for spec in specs.values():
        if spec.below is not None and not values[spec.name] < values[spec.below]:
            raise VarError(f"Invalid vars: {spec.name} must be below {spec.below}, but "
                           f"{said(spec.name)} and {said(spec.below)}. Example: --var {spec.name}="
                           f"{spec.default} --var {spec.below}={specs[spec.below].default}")


def coerce(spec: VarSpec, text: str) -> Any:
    """Read command-line text as the declared type: JSON where it parses, else the text itself.

    >>> coerce(VarSpec("n", 4), "5"), coerce(VarSpec("m", ""), "123"), coerce(VarSpec("f", ["a"]), "a,b")
    (5, '123', ['a', 'b'])
    """
    if spec.kind is str:
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply for Python's parser
        return text.split(",") if spec.kind is list else text


def check_value(spec: VarSpec, value: Any, origin: str) -> Any:
    """Return value if it fits spec (an int is taken for a float); else raise a VarError naming both."""
    if not fits(spec, value):
        raise VarError(f"Invalid value for var '{spec.name}' (from {origin}): "
                       f"{shown(value)} is not {spec.describe()}. "
                       f"Example: --var {spec.name}={example(spec.default)}")
    return float(value) if spec.kind is float else value


def shown(value: Any, width: int = 100) -> str:
    """A value as JSON for a message, cut to width characters.

    >>> shown("甄嬛" * 100, 8), shown(["a"])
    ('"甄嬛甄嬛甄嬛…', '["a"]')
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return "a value nested too deeply to show"
    return text if len(text) <= width else text[:width - 1] + "…"


def fits(spec: VarSpec, value: Any) -> bool:
    """
    >>> spec = VarSpec("min_rating", 4, 1, 5)
    >>> fits(spec, 5), fits(spec, 6), fits(spec, 4.0), fits(spec, True)
    (True, False, False, False)
    """
    kind = spec.kind
    if isinstance(value, bool) and kind is not bool:
        return False
    if kind is float:
        typed = isinstance(value, (int, float)) and math.isfinite(value)
    elif kind is list:
        typed = isinstance(value, list) and all(isinstance(item, str) for item in value)
    else:
        typed = isinstance(value, kind)
    if not typed:
        return False
    if kind in (int, float) and not (
            (spec.minimum is None or value >= spec.minimum) and
            (spec.maximum is None or value <= spec.maximum)):
        return False
    items = value if kind is list else [value]
    if spec.choices and any(item not in spec.choices for item in items):
        return False
    return not any(isinstance(item, str) and "\0" in item for item in items)


def example(value: Any) -> str:
    """A value as it would be typed after --var NAME=."""
    if isinstance(value, list):
        return ",".join(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def suggest(name: str, known: Iterable[str]) -> str:
    """A " Did you mean ...?" hint, or "".

    >>> suggest("min_ratin", ["min_rating", "model_name"])
    " Did you mean 'min_rating'?"
    """
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def sql_literal(value: Any) -> str:
    """A Python value as a DuckDB literal of its type; text is quoted, so it is always data.

    >>> sql_literal("x' OR '1'='1"), sql_literal(True), sql_literal(5), sql_literal(["a", "b"])
    ("'x'' OR ''1''=''1'", 'true', '5', "['a', 'b']")
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise VarError(f"{value} cannot be written as a SQL literal")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(sql_literal(item) for item in value) + "]"
    raise VarError(f"{value!r} cannot be written as a SQL literal")


class Literal:
    """A var as Jinja sees it: printed, a SQL literal of its type; in {% if %} or ==, the value."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __str__(self) -> str:
        return sql_literal(self.value)

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, Literal) else other)

    def __hash__(self) -> int:
        return hash(sql_literal(self.value))

    def __iter__(self):
        return (Literal(item) for item in self.value)

    def __len__(self) -> int:
        return len(self.value)
