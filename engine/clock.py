"""Time stamps, one form for every name fbt makes from the time (build ids, incremental file names,
review CSVs)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_stamp(now: datetime | None = None) -> str:
    """The time as files and the export history name it, e.g. 20250718T190102Z.

    >>> utc_stamp(datetime(2025, 7, 18, 19, 1, 2, tzinfo=timezone.utc))
    '20250718T190102Z'
    """
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
