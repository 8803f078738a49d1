"""Records to JSON and back, exactly: the store and the exports use this one converter.

Decimals, dates and date-times are tagged (``{"$decimal": "1234.50"}``) so that
values inside free-form mappings (a bid's ``fields``) come back with their
type; attrs records are rebuilt from their type hints. The JSON text is
canonical (sorted keys, no spaces), so equal records give equal bytes and hashes.

A record class that comes by the ten thousand (a bid's price lines) may set
``__serde_row__ = True``: it is then written as a row, a list of its fields in
order, with its Decimal fields as plain strings (its type hints say what they
are) -- ``["L1", "12", "82000", "Pricing!E4"]`` instead of an object of four
keys and two tagged decimals: a third of the size and of the time. Rows and
objects are both read back, so stores written before still load.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import operator
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache, partial
from typing import Any, TypeVar

import attrs

from rfpflow.bulk import gc_paused

T = TypeVar("T")


def to_data(value: Any) -> Any:
    """A JSON-compatible structure for ``value`` (attrs records, tuples, mappings, scalars)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encode = _ENCODERS.get(kind)
    if encode is None:
        encode = _encoder(kind)
    return encode(value)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _decimal(value: Decimal) -> Any:
    return {"$decimal": str(value)}


def _sequence(value: Any) -> Any:
    return [to_data(v) for v in value]


def _mapping(value: Mapping[Any, Any]) -> Any:
    return {str(k): to_data(v) for k, v in value.items()}


# Encoders by exact type, added as types are met: a bid has up to 50,000 price
# lines, and a lookup per value is much cheaper than a chain of isinstance checks.
_ENCODERS: dict[type, Callable[[Any], Any]] = {Decimal: _decimal, list: _sequence, tuple: _sequence, dict: _mapping}


def _encoder(kind: type) -> Callable[[Any], Any]:
    encode: Callable[[Any], Any]
    if attrs.has(kind) and getattr(kind, "__serde_row__", False):
        row_of = _row_maker(kind)

        def encode(value: Any) -> Any:
            return [to_data(field) for field in row_of(value)]
    elif attrs.has(kind):
        names = tuple(f.name for f in attrs.fields(kind))

        def encode(value: Any) -> Any:
            return {name: to_data(getattr(value, name)) for name in names}
    elif issubclass(kind, enum.Enum):
        def encode(value: Any) -> Any:
            return value.value
    elif issubclass(kind, dt.datetime):
        def encode(value: Any) -> Any:
            return {"$datetime": value.isoformat()}
    elif issubclass(kind, dt.date):
        def encode(value: Any) -> Any:
            return {"$date": value.isoformat()}
    elif issubclass(kind, Decimal):
        encode = _decimal
    elif issubclass(kind, Mapping):
        encode = _mapping
    elif issubclass(kind, (list, tuple)):
        encode = _sequence
    elif issubclass(kind, (str, int, float, bool)):  # subclasses of the plain types (enums are caught above)
        def encode(value: Any) -> Any:
            return value
    else:
        raise TypeError(f"cannot serialise {kind.__name__}")
    _ENCODERS[kind] = encode
    return encode


def untag(value: Any) -> Any:
    """Decode tagged scalars anywhere in a JSON structure (for untyped values)."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$decimal":
                return Decimal(inner)
            if key == "$datetime":
                return dt.datetime.fromisoformat(inner)
            if key == "$date":
                return dt.date.fromisoformat(inner)
        return {k: untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untag(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    import rfpflow.model  # noqa: F401  (the names the hints refer to)

    return typing.get_type_hints(cls, vars(__import__(cls.__module__, fromlist=["_"])))


def _row_fields(kind: type) -> dict[str, type]:
    """The fields of a record class typed ``tuple[R, ...]`` with ``R`` a row class."""
    out: dict[str, type] = {}
    try:
        hints = _hints(kind)
    except (NameError, TypeError):  # hints that cannot be resolved (a plugin's record): no rows then
        return out
    for name, hint in hints.items():
        args = typing.get_args(hint)
        if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis \
                and getattr(args[0], "__serde_row__", False):
            out[name] = args[0]
    return out


@cache
def _row_maker(kind: type) -> Callable[[Any], list[Any]]:
    """A function writing a row record as its row: its fields in order, the
    Decimal ones as strings."""
    plan = _row_plan(kind)
    names = tuple(name for name, _ in plan)
    decimals = tuple(i for i, (_, decimal) in enumerate(plan) if decimal)
    get = operator.attrgetter(*names)
    # Optional trailing fields (``__serde_optional__``: added later, with defaults) are left out of a
    # row while they hold their defaults, so rows stay as short as they were before those fields.
    optional = getattr(kind, "__serde_optional__", ())
    defaults = tuple(_default_of(f) for f in attrs.fields(kind) if f.name in optional)
    keep = len(names) - len(defaults)

    def row_of(value: Any) -> list[Any]:
        row = list(get(value)) if len(names) > 1 else [get(value)]
        for i in decimals:
            row[i] = str(row[i])
        if defaults:
            end = len(row)
            while end > keep and row[end - 1] == defaults[end - 1 - keep]:
                end -= 1
            del row[end:]
        return row

    return row_of


@cache
def _row_plan(kind: type) -> tuple[tuple[str, bool], ...]:
    """A row class's fields in order, each with whether it is a Decimal field
    (written as a plain string). A Decimal field must hold a Decimal."""
    hints = _hints(kind)
    return tuple((f.name, hints[f.name] is Decimal) for f in attrs.fields(kind))


@cache
def _row_decoders(kind: type) -> tuple[Callable[[Any], Any], ...]:
    """How each field of a row is read back: Decimal fields from their string,
    text as it is, anything else through :func:`_convert`."""
    hints = _hints(kind)
    decoders: list[Callable[[Any], Any]] = []
    for name, decimal in _row_plan(kind):
        hint = hints[name]
        if decimal:
            decoders.append(Decimal)
        elif hint is str or hint == str | None:
            decoders.append(_same)
        else:
            decoders.append(partial(_convert, hint))
    return tuple(decoders)


def _same(value: Any) -> Any:
    return value


def _from_row(cls: type[T], row: list[Any]) -> T:
    decoders = _row_decoders(cls)  # type: ignore[arg-type]  # attrs classes are hashable
    if len(row) != len(decoders):
        # A row written before the class gained fields (with defaults) reads with those defaults.
        if len(row) > len(decoders) or len(row) < _required_fields(cls):  # type: ignore[arg-type]  # attrs classes are hashable
            raise ValueError(f"a stored {cls.__name__} row has {len(row)} fields, not {len(decoders)}")
        decoders = decoders[:len(row)]
    return cls(*[decode(value) for decode, value in zip(decoders, row, strict=True)])


def _default_of(field: Any) -> Any:
    default = field.default
    return default.factory() if isinstance(default, attrs.Factory) else default  # type: ignore[arg-type]


@cache
def _required_fields(kind: type) -> int:
    return sum(1 for f in attrs.fields(kind) if f.default is attrs.NOTHING)


def from_data(cls: type[T], data: Any) -> T:
    """Rebuild an attrs record of type ``cls`` from :func:`to_data` output."""
    if isinstance(data, list):
        return _from_row(cls, data)
    hints = _hints(cls)  # type: ignore[arg-type]  # attrs classes are hashable
    kwargs = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # callers pass attrs classes
        if field.name in data:
            kwargs[field.name] = _convert(hints[field.name], data[field.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            if attrs.has(option) and isinstance(value, dict):
                return from_data(option, value)
        return untag(value)
    if attrs.has(hint):
        return from_data(hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            if getattr(args[0], "__serde_row__", False):
                return tuple(_from_row(args[0], v) if isinstance(v, list) else from_data(args[0], v) for v in value)
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=True))
    if origin in (Mapping, dict, typing.Mapping):
        args = typing.get_args(hint)
        inner = args[1] if len(args) == 2 else Any
        return {k: _convert(inner, v) for k, v in value.items()}
    return untag(value)


def dumps(value: Any) -> str:
    """Canonical JSON text of ``value``: the same text as
    ``json.dumps(to_data(value), sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))``, written without building :func:`to_data`'s
    copy first -- the encoder asks for each record's fields as it meets the
    record, so a bid of 50,000 price lines never exists twice in memory."""
    with gc_paused():  # a bid's price lines become tens of thousands of lists
        return _CANONICAL.encode(value)


def _fields(value: Any) -> Any:
    """The encoder's fallback: one level of :func:`to_data` (the encoder walks the rest)."""
    unwrap = _UNWRAP.get(type(value))
    if unwrap is None:
        unwrap = _unwrapper(type(value))
    return unwrap(value)


_UNWRAP: dict[type, Callable[[Any], Any]] = {Decimal: _decimal}


def _unwrapper(kind: type) -> Callable[[Any], Any]:
    unwrap: Callable[[Any], Any]
    if attrs.has(kind) and getattr(kind, "__serde_row__", False):
        unwrap = _row_maker(kind)
    elif attrs.has(kind):
        names = tuple(f.name for f in attrs.fields(kind))
        rows = {name: _unwrapper(row_kind) for name, row_kind in _row_fields(kind).items()}

        def unwrap(value: Any) -> Any:
            fields = {}
            for name in names:
                field = getattr(value, name)
                if type(field) is Decimal:  # tagged here, not in another call back from the encoder
                    field = {"$decimal": str(field)}
                elif name in rows:  # a bid's price lines: all rows at once, not a call back for each
                    field = [rows[name](row) for row in field]
                fields[name] = field
            return fields
    elif issubclass(kind, Mapping):
        def unwrap(value: Any) -> Any:
            return {str(k): v for k, v in value.items()}
    else:
        unwrap = to_data
    _UNWRAP[kind] = unwrap
    return unwrap


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_fields)


def loads(cls: type[T], text: str) -> T:
    return from_data(cls, json.loads(text))
