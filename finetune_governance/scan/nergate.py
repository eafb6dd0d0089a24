"""Which segments the NER model must read: those with a capitalised word that can start a name.

spaCy's English NER almost never tags a PERSON, LOCATION or NRP span that holds no
capitalised word, so a segment without one is skipped (pattern recognizers still run on
it). A capitalised word does not count when it is

- the pronoun ``I`` (``I'm``, ``I'd``, ...);
- the segment's first word and a common word (spaCy's English stop words, or a greeting
  or sign-off such as "Hi", "Thanks", "Regards"): capitalised only because it starts the
  sentence;
- anywhere, a function word (a pronoun, determiner, auxiliary, preposition or conjunction
  of spaCy's stop words, or a greeting word): "Hi team, My account ...", "Hello,\nThe app
  ...". Stop words that are also names or nouns ("Will", "May", "Bill", "Front", "Side")
  are not function words and still count;
- an acronym of at most four capital letters ("API", "VPN", "SSN", "IBAN").

Measured on the bench corpus (``bench/scan_bench.py --records 3000 --ner-gate-check``):
the gate skips 2,604 of 4,094 distinct segments (1,827 before function words counted as
common anywhere); the full NER finds 28 PERSON, LOCATION or NRP entities in them, all 28
inside an e-mail address or phone number hit (spans the scanner drops in favour of the
structured hit), 0 lost; recall on the ground truth is unchanged. What it cannot see: names written
in lower case ("john smith"), in capitals of four letters or fewer, or a one-word name that
starts a sentence and is also a common word ("Will", "Bill"); spaCy's small model rarely
tags those either. Pure functions.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_PRONOUN_I = frozenset({"I", "I'm", "I'd", "I've", "I'll", "I’m", "I’d", "I’ve", "I’ll"})
#: sentence openers of support text and e-mail that are not names
OPENERS = frozenset({
    "hi", "hello", "hey", "dear", "good", "thanks", "thank", "regards", "best", "kind", "cheers",
    "sincerely", "greetings", "ok", "okay", "yes", "no", "sorry", "urgent", "asap", "fyi", "note",
})
#: acronyms up to this many capital letters are not treated as names
MAX_ACRONYM = 4
#: spaCy stop words that are not function words: names, months, nouns, verbs, numerals;
#: capitalised mid-sentence they may be (part of) a name, so they still count there
NOT_FUNCTION_WORDS = frozenset({
    "will", "may", "mine", "amount", "back", "bottom", "call", "empty", "front", "full", "keep", "last",
    "made", "make", "name", "part", "put", "say", "see", "serious", "show", "side", "top", "well", "used",
    "using", "move", "give", "get", "go", "take", "first", "third", "next", "various", "former", "whole",
    "due", "hundred", "latter", "ca", "re", "done", "become", "became", "seem", "seems", "seemed",
    "seeming", "nobody", "noone",
})


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | OPENERS


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w for w in STOP_WORDS if w.isalpha() and w not in NOT_FUNCTION_WORDS) | OPENERS


def needs_ner(text: str) -> bool:
    """True when ``text`` has a capitalised word that can be (part of) a name."""
    common, function = _common_words(), _function_words()
    for index, word in enumerate(_WORD.findall(text)):
        if not word[0].isupper() or word in _PRONOUN_I:
            continue
        letters = word.rstrip(".'’-")
        if letters.isupper() and len(letters) <= MAX_ACRONYM:
            continue
        lower = word.rstrip(".,'’").lower()
        if lower in function or (index == 0 and lower in common):
            continue
        return True
    return False
