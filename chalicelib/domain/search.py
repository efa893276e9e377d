"""Lead search: the tokens of the inverted index and the query's terms (pure functions).

DynamoDB has no full-text search, so every live lead keeps a few *token items* (table
`lead-search`: hash `token`, range `lead_id`), written in the lead's own transaction
(services/search.token_ops). A search Queries the partition of its most selective token
(newest lead first), fetches those leads and verifies every term and filter on the lead as it
is now: a token left behind can cost a read, never a wrong hit.

Tokens (at most MAX_TOKENS a lead, so that a rename's deletions and puts with the lead's other
operations fit DynamoDB's 100 a transaction):

- `w:<prefix>`: the words of the name, the company and the e-mail's local part, accents and
  case folded (NFKD, combining marks dropped, case folded, ø/æ/œ/ł/đ spelt out, apostrophes
  dropped, split on anything not a letter or digit of any script), prefixes of
  WORD_PREFIXES characters. A query word of 5 letters finds its 4-letter prefix's partition
  and is verified on the lead.
- `p:<digits>`: the phone's last 10 digits (the national number of NANP numbers), every run of
  4 and of 7 consecutive digits (at most 7 + 4 tokens). A query of 4 to 6 digits looks up its
  last 4, of 7 or more its last 7, and is verified against the whole number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

# Bump when the tokens change: the backfill (store.tables.backfill_search) rewrites the tokens
# of every live lead whose `search_version` is older.
SEARCH_VERSION = 1
MAX_TOKENS = 40
WORD_PREFIXES = (2, 3, 4, 6)
PHONE_GRAMS = (4, 7)
PHONE_TAIL = 10
MAX_QUERY_CHARS = 200
MAX_TERMS = 8

_APOSTROPHES = re.compile(r"['’`]")
_NOT_WORD = re.compile(r"[\W_]+")  # any script's letters and digits make words
# Latin letters NFKD does not take apart (no combining mark): folded by hand.
_LATIN = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)
_PHONE_QUERY = re.compile(r"[\d\s()+.\-/]+")


class Searchable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def company(self) -> str | None: ...


def fold(text: str) -> str:
    """Accents and case folded: `Zoë Ångström` -> `zoe angstrom`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_LATIN)


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return [w for w in _NOT_WORD.split(_APOSTROPHES.sub("", fold(text))) if w]


def email_words(email: str | None) -> list[str]:
    if not email:
        return []
    return words(email.split("@", 1)[0])


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _prefixes(word: str) -> list[str]:
    return [f"w:{word[:n]}" for n in WORD_PREFIXES if len(word) >= n]


def _grams(number: str) -> list[str]:
    tail = digits(number)[-PHONE_TAIL:]
    out: list[str] = []
    for n in PHONE_GRAMS:
        out += [f"p:{tail[i : i + n]}" for i in range(len(tail) - n + 1)]
    return out


def tokens(lead: Searchable) -> list[str]:
    """The lead's tokens, most useful first (name, phone, company, e-mail), de-duplicated and
    cut at MAX_TOKENS."""
    ordered: list[str] = []
    for word in words(lead.name):
        ordered += _prefixes(word)
    ordered += _grams(lead.phone)
    for word in words(lead.company):
        ordered += _prefixes(word)
    for word in email_words(lead.email):
        ordered += _prefixes(word)
    return list(dict.fromkeys(ordered))[:MAX_TOKENS]


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """A parsed `q`: word prefixes, digit runs and e-mail fragments, every one of which a hit
    must hold. `token`: the most selective term's partition; `tokens`: the partitions of
    every term (at most MAX_READ_TOKENS, most selective first), whose lead ids a search
    intersects before it reads a lead."""

    words: tuple[str, ...]
    numbers: tuple[str, ...]
    emails: tuple[str, ...]
    token: str
    tokens: tuple[str, ...] = ()


MAX_READ_TOKENS = 3


class BadQuery(ValueError):
    pass


def _word_token(word: str) -> tuple[int, str] | None:
    usable = [n for n in WORD_PREFIXES if len(word) >= n]
    if not usable:
        return None
    n = usable[-1]
    return n * 10, f"w:{word[:n]}"


def _number_token(number: str) -> tuple[int, str]:
    if len(number) >= PHONE_GRAMS[-1]:
        return 100, f"p:{number[-PHONE_GRAMS[-1] :]}"
    return 45, f"p:{number[-PHONE_GRAMS[0] :]}"


def parse(q: str) -> Query:
    """The terms of `q`; BadQuery when it holds nothing that can be looked up (no word of two
    letters or more, no four digits)."""
    text = q.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(f"q is longer than {MAX_QUERY_CHARS} characters")
    found_words: list[str] = []
    numbers: list[str] = []
    emails: list[str] = []
    if _PHONE_QUERY.fullmatch(text) and len(digits(text)) >= PHONE_GRAMS[0]:
        numbers.append(digits(text))
    else:
        for term in text.split():
            if "@" in term:
                emails.append(fold(term))
                found_words += email_words(term)
            elif len(digits(term)) >= PHONE_GRAMS[0] and _PHONE_QUERY.fullmatch(term):
                numbers.append(digits(term))
            else:
                found_words += words(term)
    found_words = list(dict.fromkeys(found_words))
    if len(found_words) + len(numbers) + len(emails) > MAX_TERMS:
        raise BadQuery(f"q holds more than {MAX_TERMS} terms")
    candidates = [t for t in (_word_token(w) for w in found_words) if t is not None]
    candidates += [_number_token(n) for n in numbers]
    if not candidates:
        raise BadQuery("q needs a word of two letters or more, an e-mail or four digits")
    ranked = sorted(candidates, key=lambda c: -c[0])  # stable: the first of equals first
    read = tuple(dict.fromkeys(t for _, t in ranked))[:MAX_READ_TOKENS]
    return Query(tuple(found_words), tuple(numbers), tuple(emails), read[0], read)


def matches(query: Query, lead: Searchable) -> bool:
    """Whether the lead, as it is now, holds every term of the query."""
    have = set(words(lead.name)) | set(words(lead.company)) | set(email_words(lead.email))
    for word in query.words:
        if not any(w.startswith(word) for w in have):
            return False
    number = digits(lead.phone)
    for run in query.numbers:
        trimmed = run.lstrip("0")  # a national trunk prefix (020 7946 0958)
        if run not in number and (len(trimmed) < PHONE_GRAMS[0] or trimmed not in number):
            return False
    email = fold(lead.email or "")
    return all(fragment in email for fragment in query.emails)
