"""Calendar dates, numeric or written out, and what does not count as one. Pure functions.

A calendar date names a day or a month of a year: ``03/14/1985``, ``2021-03-03``,
``March 3rd, 2021``, ``12 Jan 1948``, ``the 5th of May``, ``May 5``, ``March 2021``.
Vague or relative expressions are not dates of an individual and do not count: ``today``,
``Monday``, ``last week``, ``6 am``, and a month name alone (``in May``: no day and no year;
"May" is also a modal verb and a name). A written month counts capitalised ("March", "Mar.")
or upper case ("MAR"); lower case ("march 3rd, 2021") only with both a day and a year.
"""

from __future__ import annotations

import re

_MONTHS = ("Jan(?:uary)?", "Feb(?:ruary)?", "Mar(?:ch)?", "Apr(?:il)?", "May", "June?", "July?", "Aug(?:ust)?",
           "Sep(?:t(?:ember)?)?", "Oct(?:ober)?", "Nov(?:ember)?", "Dec(?:ember)?")
#: a month name, capitalised ("March", "Mar.") or upper case ("MAR")
MONTH = "(?:" + "|".join(_MONTHS + tuple(m.upper() for m in _MONTHS)) + r")\b(?:\.(?=\s))?"
#: a month name in lower case ("march"): a date only with a day and a year
LOWER_MONTH = "(?:" + "|".join(m.lower() for m in _MONTHS) + r")\b(?:\.(?=\s))?"
#: day of the month, with an optional ordinal suffix; not a clock time ("5:30") or a decimal ("5.5")
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?![\d:]|\.\d)"
#: a four-digit year of the 19th to 21st century
YEAR = r"(?:1[89]\d\d|20\d\d)(?!\d)"

#: written forms, each with a day or a year: "March 3rd, 2021", "May 5", "March the 3rd",
#: "12 Jan 1948", "the 5th of May", "March 2021" (the capture is the date, without "the")
WRITTEN_DATE = (
    rf"\b(?:{MONTH}\s+(?:the\s+)?{DAY}(?:,?\s+{YEAR})?"
    rf"|{DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?"
    rf"|{MONTH},?\s+{YEAR}"
    rf"|{LOWER_MONTH}\s+{DAY},?\s+{YEAR}|{DAY}\s+(?:of\s+)?{LOWER_MONTH},?\s+{YEAR})"
)
_WRITTEN = re.compile(WRITTEN_DATE)
_NUMERIC = re.compile(r"\d{4}|\d{1,2}\s*[/.\-]\s*\d{1,2}")


def is_written_date(text: str) -> bool:
    """True when ``text`` holds a written calendar date (a month name with a day or a year)."""
    return _WRITTEN.search(text) is not None


def looks_like_calendar_date(text: str) -> bool:
    """True for a numeric date (a digit group such as ``03/04`` or a four-digit year) or a
    written calendar date; False for "today", "6 am", "Monday", "in May"."""
    return _NUMERIC.search(text) is not None or is_written_date(text)
