"""The search index's tokens and the query's terms (chalicelib/domain/search.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chalicelib.domain import search


@dataclass
class L:
    name: str
    phone: str = "+14155550142"
    email: str | None = None
    company: str | None = None


def test_fold_drops_accents_and_case():
    assert search.fold("Zoë ÅNGSTRÖM") == "zoe angstrom"
    assert search.words("Jean-Luc O'Brien, Ltd.") == ["jean", "luc", "obrien", "ltd"]
    assert search.words("Ørsted Æbleskiver Łódź") == ["orsted", "aebleskiver", "lodz"]
    assert search.words("Иван Петров 王芳") == ["иван", "петров", "王芳"]  # any script


def test_tokens_are_name_prefixes_phone_runs_company_and_email_words():
    tokens = search.tokens(L("José Núñez", company="Acme", email="jn.sales@acme.com"))
    assert {"w:jo", "w:jos", "w:jose", "w:nu", "w:nun", "w:nune"} <= set(tokens)
    assert "w:nunez" not in tokens  # prefixes of 2, 3, 4 and 6 letters only
    assert {"p:4155", "p:0142", "p:4155550", "p:5550142"} <= set(tokens)
    assert {"w:ac", "w:acm", "w:acme", "w:sa", "w:sal", "w:sale"} <= set(tokens)
    phone = [t for t in tokens if t.startswith("p:")]
    assert len(phone) == 7 + 4  # every run of 4 and of 7 of the last 10 digits
    assert len(tokens) == len(set(tokens))


def test_tokens_are_capped():
    lead = L(" ".join(f"word{i}xyz" for i in range(30)), company="Big Company Name Here")
    tokens = search.tokens(lead)
    assert len(tokens) == search.MAX_TOKENS
    assert tokens[:4] == ["w:wo", "w:wor", "w:word", "w:word0x"]  # the name comes first


@pytest.mark.parametrize(
    ("q", "token"),
    [
        ("Jan", "w:jan"),
        ("janet", "w:jane"),
        ("jane doe", "w:jane"),
        ("Núñez", "w:nunez"[:6]),
        ("0142", "p:0142"),
        ("(415) 555-0142", "p:5550142"),
        ("+1 415 555 0142", "p:5550142"),
        ("555-01", "p:5501"),
        ("jn.sales@acme.com", "w:sales"[:6]),
    ],
)
def test_the_query_reads_its_most_selective_token(q, token):
    assert search.parse(q).token == token


@pytest.mark.parametrize("q", ["", "  ", "a", "7", "a b c", "x" * 201, "a b c d e f g h i"])
def test_a_query_with_nothing_to_look_up_is_refused(q):
    with pytest.raises(search.BadQuery):
        search.parse(q)


def test_matches_checks_every_term_on_the_lead_as_it_is():
    lead = L("Zoë Smith-Jones", phone="+442079460958", email="zoe@example.co.uk", company="Ünïted")
    for q in ("zoe", "SMITH jon", "united zoe", "0958", "020 7946 0958", "zoe@example", "Zo"):
        assert search.matches(search.parse(q), lead), q
    for q in ("zoe brown", "1234", "anna@example", "smithx", "7946 0959"):
        assert not search.matches(search.parse(q), lead), q
