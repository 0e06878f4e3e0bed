"""HTTP dates (RFC 9110 §5.6.7): write IMF-fixdate, read all three forms.

Every draft-cavage request carries a signed ``Date``, so reading it is on the
hot path of inbox verification. IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)
has fixed offsets and is what every sender uses, so it is sliced by hand;
the two obsolete forms a recipient must still accept (RFC 850 and asctime)
fall back to :mod:`email.utils`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_tz

from protocol.errors import SignatureMalformed

__all__ = ["format_http_date", "parse_http_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = frozenset(_DAYS)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ISO_MONTH = {name: f"{number:02d}" for number, name in enumerate(_MONTHS, start=1)}
_MONTH = "(?:" + "|".join(_MONTHS) + ")"
# RFC 9110 §5.6.7 rfc850-date and asctime-date, checked before email.utils reads them.
_OBSOLETE = re.compile(
    rf"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, [0-9]{{2}}-{_MONTH}-[0-9]{{2}} "
    rf"[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} GMT"
    rf"|(?:{'|'.join(_DAYS)}) {_MONTH} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} [0-9]{{4}}"
)


def format_http_date(moment: datetime) -> str:
    """IMF-fixdate for an aware datetime, e.g. ``Tue, 20 Apr 2021 02:07:55 GMT``."""
    if moment.tzinfo is None:
        raise ValueError("an HTTP date needs an aware datetime")
    utc = moment.astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
    )


def parse_http_date(text: str) -> datetime:
    """Read an HTTP date as an aware UTC datetime; raise :class:`SignatureMalformed`.

    Parsed IMF-fixdates are remembered: under load an inbox sees many requests
    stamped with the same second, and a dict hit costs a tenth of a parse. The
    function is pure, so the memo can only save time; it is bounded by
    clearing it whole when full (dates only repeat while they are recent).
    """
    fixed = _SEEN.get(text)
    if fixed is not None:
        return fixed
    fixed = _parse_fixdate(text)
    if fixed is None:
        return _parse_obsolete(text)
    if len(_SEEN) >= _SEEN_LIMIT:
        _SEEN.clear()
    _SEEN[text] = fixed
    return fixed


_SEEN: dict[str, datetime] = {}
_SEEN_LIMIT = 256


def _parse_fixdate(text: str) -> datetime | None:
    # "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters at fixed offsets. The
    # digits are rearranged into ISO 8601 for datetime.fromisoformat, which
    # checks them (and the calendar) in C.
    month = _ISO_MONTH.get(text[8:11])
    if (
        month is None
        or len(text) != 29
        or text[25:] != " GMT"
        or text[3:5] != ", "
        or text[7] + text[11] + text[16] + text[19] + text[22] != "   ::"
        or text[:3] not in _DAY_NAMES
    ):
        return None
    try:
        # The weekday name is redundant with the date, so it is not cross-checked.
        return datetime.fromisoformat(f"{text[12:16]}-{month}-{text[5:7]}T{text[17:25]}+00:00")
    except ValueError:
        raise SignatureMalformed(f"Date is not a valid date: {text!r}") from None


def _parse_obsolete(text: str) -> datetime:
    # RFC 9110 §5.6.7: recipients must also accept RFC 850 and asctime forms.
    parsed = parsedate_tz(text) if _OBSOLETE.fullmatch(text) else None
    if parsed is None:
        raise SignatureMalformed(f"Date is not an HTTP date: {text[:64]!r}")
    year, month, day, hour, minute, second = parsed[:6]
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise SignatureMalformed(f"Date is not a valid date: {text[:64]!r}") from None
