"""JSON in and out of the gateway, exact: numbers keep every digit (Decimal, never float), output is compact.

Requests are parsed here, sent to PostgreSQL (whose jsonb numbers are exact numerics) and the results
parsed and written back here, so `3.14159265358979323846` or `1e400` in a check-in comes back as sent.

Refused here (ValueError, so the gateway answers 400 `Invalid JSON body` before any database call):
NaN/Infinity (not JSON), nesting deeper than MAX_DEPTH (check_depth), and strings or keys PostgreSQL
cannot store: NUL (`\u0000`: text and jsonb cannot hold it) and lone UTF-16 surrogates (`\ud800`: not
Unicode, cannot be encoded as UTF-8). Nothing is silently altered: a value is stored as sent or refused.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

MAX_DEPTH = 100
# Python refuses to convert integers of more than 4300 digits (sys.int_info.str_digits_check_threshold);
# longer ones are kept as Decimal, which PostgreSQL's numeric takes up to 131072 digits.
_MAX_INT_DIGITS = 4000


class Refused(ValueError):
    """A JSON text the gateway refuses, with the reason (the 400's message says it)."""


class TooDeep(Refused):
    """A JSON value nested deeper than MAX_DEPTH levels."""


class Unstorable(Refused):
    """A string or key holding NUL or a lone surrogate: PostgreSQL cannot store it."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


# Only these can put NUL or a lone surrogate into a parsed string (a raw NUL or an unpaired surrogate in the
# text itself is invalid JSON or invalid UTF-8 already): when none occurs, there is nothing to walk.
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|[\ud800-\udfff]")


def loads(data: str | bytes) -> Any:
    """Parse JSON with exact numbers; NaN/Infinity are refused (they are not JSON), and so are strings
    holding NUL or a lone surrogate (Unstorable)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    value = json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_reject_constant)
    if _SUSPECT.search(text):
        check_storable(value)
    return value


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "holds NUL (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (\\ud800-\\udfff), which is not Unicode"
    return None


def check_storable(value: Any) -> None:
    """Raise Unstorable when a string or key anywhere in `value` holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if reason := _unstorable(key):
                    raise Unstorable(f"a key {reason}")
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (reason := _unstorable(item)):
            raise Unstorable(f"a string {reason}")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep when arrays/objects nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise TooDeep(f"JSON nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


def dumps(obj: Any) -> str:
    """Compact JSON; Decimals are written with all their digits (via a placeholder no input can forge)."""
    numbers: list[str] = []
    nonce = secrets.token_hex(8)

    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            numbers.append(str(o))
            return f"\x00{nonce}:{len(numbers) - 1}"
        raise TypeError(f"{type(o).__name__} is not JSON serialisable")

    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=default)
    if numbers:
        text = _PLACEHOLDER.sub(lambda m: numbers[int(m[2])] if m[1] == nonce else m[0], text)
    return text


_PLACEHOLDER = re.compile(r'"\\u0000([0-9a-f]{16}):(\d+)"')
