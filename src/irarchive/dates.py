"""Dates: parsing record dates on import, and command-line dates into inclusive periods.

Dates are stored as ISO text at the precision the source gave: ``2022-11-01``,
``2022-11`` or ``2022``. Every stored date also has an inclusive day range
(``date_start``..``date_end``) so a month-dated article falls inside ``--on 2022-02``
and inside ``--since 2022``. Pure functions; "today" is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from irarchive.errors import BadDate
from irarchive.text import lazy_re

# English month names, spelled out (not the calendar module: locale-dependent and
# slower to import on every start-up).
MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()
MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}
MONTHS.update({name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)})
MONTHS["sept"] = 9

ACCEPTED = (
    "2022, 2022-03, 2022-03-14, March 2022, 14 March 2022, March 14, 2022, "
    "7d, 6w, 3m, 1y, today or yesterday"
)

_ISO = lazy_re(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_ISO_DATETIME = lazy_re(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?")
_MDY = lazy_re(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DMY = lazy_re(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})")
_MY = lazy_re(r"([A-Za-z]+)\.?,?\s+(\d{4})")
_NUMERIC = lazy_re(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
# Year first is never day-before-month anywhere: 2022/11/01, 2022.11.01.
_YMD_NUMERIC = lazy_re(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})\.?")
_RELATIVE = lazy_re(r"(\d{1,5})\s*(d|w|m|y)")


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


@dataclass(frozen=True)
class Period:
    """An inclusive range of days."""

    start: date
    end: date

    def describe(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}, inclusive"


def _ymd(y: int, m: int | None = None, d: int | None = None) -> tuple[int, int | None, int | None]:
    if not 1 <= y <= 9999:
        raise ValueError(f"year {y} is out of range")
    if m is not None and not 1 <= m <= 12:
        raise ValueError(f"month {m} does not exist")
    if d is not None:
        assert m is not None
        last = days_in_month(y, m)
        if not 1 <= d <= last:
            raise ValueError(f"day {d} does not exist in {MONTH_NAMES[m - 1]} {y}")
    return y, m, d


def _iso(y: int, m: int | None, d: int | None) -> str:
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _month(name: str) -> int:
    try:
        return MONTHS[name.lower()]
    except KeyError:
        raise ValueError(f"{name!r} is not a month name") from None


def _parse_absolute(text: str) -> tuple[int, int | None, int | None] | None:
    """Parse the absolute forms shared by records and the command line."""
    if m := _ISO.fullmatch(text):
        y, mo, d = m.groups()
        return _ymd(int(y), int(mo) if mo else None, int(d) if d else None)
    if m := _MDY.fullmatch(text):
        return _ymd(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
    if m := _DMY.fullmatch(text):
        return _ymd(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
    if m := _MY.fullmatch(text):
        return _ymd(int(m.group(2)), _month(m.group(1)))
    return None


# ---- month and weekday names of the languages the archive's sources write in ----------
#
# A small table instead of a library such as dateparser: dateparser costs ~0.4 s to
# import and ~0.9 s for its first parse (it loads every language), and it silently
# guesses day/month order for 01/02/2022, which irarchive refuses without --date-order.
# Keys are folded (lower case, marks removed, Turkish dotless i as i), as is the input.
_MONTH_WORDS: dict[int, str] = {
    1: "ocak января январь янв қаңтар yanvar январ",
    2: "şubat февраля февраль фев февр ақпан fevral феврал",
    3: "mart марта март мар наурыз",
    4: "nisan апреля апрель апр сәуір aprel апрел",
    5: "mayıs мая май мамыр",
    6: "haziran июня июнь июн маусым iyun",
    7: "temmuz июля июль июл шілде iyul",
    8: "ağustos августа август авг тамыз avgust",
    9: "eylül сентября сентябрь сен сент қыркүйек sentabr sentyabr сентябр",
    10: "ekim октября октябрь окт қазан oktabr oktyabr октябр",
    11: "kasım ноября ноябрь ноя нояб қараша noyabr ноябр",
    12: "aralık декабря декабрь дек желтоқсан dekabr декабр",
}
_WEEKDAYS = """
    monday tuesday wednesday thursday friday saturday sunday
    mon tue tues wed thu thur thurs fri sat sun
    pazartesi salı çarşamba perşembe cuma cumartesi pazar
    понедельник вторник среда четверг пятница суббота воскресенье пн вт ср чт пт сб вс
    дүйсенбі сейсенбі сәрсенбі бейсенбі жұма сенбі жексенбі
    dushanba seshanba chorshanba payshanba juma shanba yakshanba
"""
# Words around a date that carry no part of it: "3rd of November", "2022 г.", "2022-yil".
_FILLER = "of the le г год года y yil yili йил жыл жылы жылғы ж"
_WORD_TOKEN = lazy_re(r"\d+|[^\W\d_]+")
_ORDINAL = lazy_re(r"(\d{1,2})(?:st|nd|rd|th|-?(?:chi|inchi|ci|cü|cu|inci|ıncı|uncu|üncü))")
_word_tables: tuple[dict[str, int], frozenset[str]] | None = None


def _fold_word(word: str) -> str:
    import unicodedata

    word = word.replace("ı", "i").replace("İ", "i").casefold()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tables() -> tuple[dict[str, int], frozenset[str]]:
    global _word_tables
    if _word_tables is None:
        months = dict(MONTHS)
        for number, names in _MONTH_WORDS.items():
            for name in names.split():
                months[_fold_word(name)] = number
        ignore = frozenset(_fold_word(w) for w in (_WEEKDAYS + " " + _FILLER).split())
        _word_tables = months, ignore
    return _word_tables


def _parse_words(text: str) -> tuple[int, int | None, int | None] | None:
    """A date written with a month name in English, Turkish, Russian, Kazakh or Uzbek.

    ``1 Kasım 2022``, ``1 ноября 2022 г.``, ``Thursday, 3 November 2022``,
    ``3rd of November 2022``, ``1-noyabr, 2022``, ``2022 жылғы 1 қараша``. Every word
    must be a day, a month, a year, a weekday or a filler word, so titles and
    sentences are never taken for dates.
    """
    if len(text) > 60:
        return None
    months, ignore = _tables()
    text = _ORDINAL.sub(r"\1", text)
    day = month = year = None
    for token in _WORD_TOKEN.findall(text):
        if token.isdigit():
            if len(token) == 4 and year is None:
                year = int(token)
            elif len(token) <= 2 and day is None:
                day = int(token)
            else:
                return None
            continue
        word = _fold_word(token)
        if word in months and month is None:
            month = months[word]
        elif word not in ignore:
            return None
    # Between the words only spaces, commas, dots, hyphens and slashes.
    if set(_WORD_TOKEN.sub("", text)) - set(" ,.-/"):
        return None
    if year is None or month is None:
        return None
    return _ymd(year, month, day)


def parse_record_date(value: str | None, date_order: str | None = None) -> str | None:
    """Normalise a date found in an input record to ISO text (``None`` if empty).

    Raises ``ValueError`` with a reason when the value is not a date.
    """
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if m := _ISO_DATETIME.match(text):
        hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
        if hour > 23 or minute > 59 or second > 60:  # 60: a leap second
            raise ValueError(f"{text!r} has an impossible time of day")
        return _iso(*_ymd(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    try:
        parsed = _parse_absolute(text)
    except ValueError:
        # "1 KASIM 2022" has the shape of an English date but another language's month.
        parsed = _parse_words(text)
        if parsed is None:
            raise
    if parsed:
        return _iso(*parsed)
    if m := _YMD_NUMERIC.fullmatch(text):
        return _iso(*_ymd(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    if not text.isascii() or any(c.isalpha() for c in text):
        words = _parse_words(text)
        if words:
            return _iso(*words)
    if m := _NUMERIC.fullmatch(text):
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if date_order == "dmy":
            return _iso(*_ymd(y, b, a))
        if date_order == "mdy":
            return _iso(*_ymd(y, a, b))
        if a > 12 >= b:
            return _iso(*_ymd(y, b, a))
        if b > 12 >= a:
            return _iso(*_ymd(y, a, b))
        raise ValueError(
            f"{text!r} is ambiguous (day/month or month/day?): use --date-order dmy|mdy"
        )
    if "," in text or re.search(r"\d{2}:\d{2}", text):
        from email.utils import parsedate_tz

        parts = parsedate_tz(text)
        if parts and parts[0] and parts[1] and parts[2]:
            return _iso(*_ymd(parts[0], parts[1], parts[2]))
    raise ValueError(f"{text!r} is not a date I know (use ISO 2022-11-01, 'November 1, 2022', …)")


def date_range(iso: str) -> tuple[str, str]:
    """First and last day covered by a stored ISO date of any precision."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return f"{parts[0]:04d}-01-01", f"{parts[0]:04d}-12-31"
    if len(parts) == 2:
        y, m = parts
        return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{days_in_month(y, m):02d}"
    return iso, iso


def _minus_months(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) - months
    y, m = divmod(total, 12)
    if y < 1:
        raise ValueError("that is before year 1")
    m += 1
    return date(y, m, min(day.day, days_in_month(y, m)))


def parse_period(text: str, *, today: date) -> Period:
    """A command-line date as an inclusive period: ``2022`` is all of 2022.

    Relative forms name one day: ``7d`` is the day a week before today, so
    ``--since 7d`` covers the last seven days and today.
    """
    raw = text
    text = " ".join(text.split()).lower()
    try:
        if not text:
            raise ValueError("it is empty")
        if text == "today":
            return Period(today, today)
        if text == "yesterday":
            day = today - timedelta(days=1)
            return Period(day, day)
        if m := _RELATIVE.fullmatch(text):
            n, unit = int(m.group(1)), m.group(2)
            if unit == "d":
                day = today - timedelta(days=n)
            elif unit == "w":
                day = today - timedelta(weeks=n)
            else:
                day = _minus_months(today, n * (12 if unit == "y" else 1))
            return Period(day, day)
        parsed = _parse_absolute(text)
        if parsed is None:
            raise ValueError("that is not a date form I know")
        start_s, end_s = date_range(_iso(*parsed))
        return Period(date.fromisoformat(start_s), date.fromisoformat(end_s))
    except (ValueError, OverflowError) as exc:
        raise BadDate(f"bad date {raw!r}: {exc}; use {ACCEPTED}") from None


def resolve_filters(
    since: str | None, until: str | None, on: str | None, *, today: date
) -> Period | None:
    """Combine --since/--until/--on into one inclusive period (None = no filter)."""
    if on is not None and (since is not None or until is not None):
        raise BadDate("--on cannot be combined with --since or --until; use one or the other")
    if on is not None:
        return parse_period(on, today=today)
    if since is None and until is None:
        return None
    start = parse_period(since, today=today).start if since is not None else date(1, 1, 1)
    end = parse_period(until, today=today).end if until is not None else date(9999, 12, 31)
    if start > end:
        raise BadDate(f"--since {since} ({start}) is after --until {until} ({end}); swap them")
    return Period(start, end)
