"""JSON in and out of the gateway, exact: numbers keep every digit (Decimal, never float), output is compact.

Requests are parsed here, sent to PostgreSQL (whose jsonb numbers are exact numerics) and the results
parsed and written back here, so `3.14159265358979323846` or `1e400` in a check-in comes back as sent.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

MAX_DEPTH = 100


class TooDeep(ValueError):
    """A JSON value nested deeper than MAX_DEPTH levels."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(data: str | bytes) -> Any:
    """Parse JSON with exact numbers; NaN/Infinity are refused (they are not JSON)."""
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


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
