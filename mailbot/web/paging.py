"""Where the next page of a long list starts, as the URL parameter `vor` (keyset paging:
the sort values of the last row shown, never an offset)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
Part = datetime | date | int | str


def token(*parts: Part) -> str:
    """`vor` for a page that starts after these values (times to the microsecond)."""
    def one(part: Part) -> str:
        if isinstance(part, datetime):
            return str((part - _EPOCH) // _MICROSECOND)
        if isinstance(part, date):
            return str(part.toordinal())
        return str(part)

    return ".".join(one(p) for p in parts)


def parse(value: str | None, *kinds: type[Part]) -> tuple[Any, ...] | None:
    """The values of a `vor` token, or None when it is missing or not one of ours."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != len(kinds):
        return None
    found: list[Part] = []
    try:
        for part, kind in zip(parts, kinds, strict=True):
            if kind is str:
                if not part.isalpha():
                    return None
                found.append(part)
                continue
            number = int(part)
            if kind is datetime:
                found.append(_EPOCH + number * _MICROSECOND)
            elif kind is date:
                found.append(date.fromordinal(number))
            else:
                found.append(number)
    except (ValueError, OverflowError):
        return None
    return tuple(found)
