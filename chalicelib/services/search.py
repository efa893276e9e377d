"""Lead search over the token index (domain/search.py): the token writes every lead write adds
to its own transaction, and `GET /leads?q=`.

A search Queries its terms' token partitions (consistent, keys only: lead ids, newest first),
intersects them, fetches the leads left (consistent BatchGetItem) and keeps the ones that hold
every term and pass the list's filters as they are now (`find`). Results are newest first.
"""

from __future__ import annotations

from chalicelib.domain import search as rules
from chalicelib.domain.records import Lead, LeadToken, token_key
from chalicelib.errors import ValidationError
from chalicelib.services.deps import Deps
from chalicelib.store import cursor as cursors
from chalicelib.store.base import Delete, LeadFilter, Op, Page, Put

MAX_ROUNDS = 4
MAX_FETCHES = 4
_ROUND = 100  # BatchGetItem's most keys
_IDS = 1000  # lead ids a round reads of each partition when a query has several terms


def _tokens(lead: Lead | None) -> list[str]:
    if lead is None or lead.archived_at is not None:
        return []  # an archived lead has no tokens: it cannot be found
    return rules.tokens(lead)


def token_ops(before: Lead | None, after: Lead | None) -> list[Op]:
    """The token writes that take the index from `before` (None: no lead yet) to `after` (None:
    gone), for the lead's own transaction: tokens it lost are deleted, tokens it gained are put.
    Archived leads have none. Also stamps `after.search_version`. At most 2 * MAX_TOKENS
    operations (a rename of everything), so a lead's write stays within 100."""
    subject = after if after is not None else before
    if subject is None:
        return []
    lead_id = subject.id
    old = set(_tokens(before))
    new = _tokens(after)
    # Tokens written by another version (or none: a lead from before search) may be missing:
    # every token is put again (a Put of a token item is idempotent).
    known = before is not None and before.search_version == rules.SEARCH_VERSION
    if after is not None:
        after.search_version = rules.SEARCH_VERSION
    ops: list[Op] = [
        Delete(f"token-:{lead_id}:{t}", LeadToken, token_key(t, lead_id))
        for t in sorted(old.difference(new))
    ]
    ops += [
        Put(f"token+:{lead_id}:{t}", LeadToken(t, lead_id))
        for t in new
        if not known or t not in old
    ]
    return ops


def all_token_ops(lead: Lead) -> list[Op]:
    """Every token of a lead being written for the first time (or backfilled)."""
    return token_ops(None, lead)


def first_tokens(lead: Lead) -> list[LeadToken]:
    """The token items of a lead not yet written, to be written outside its transaction (a
    bulk import writes them just before its leads); stamps the lead's `search_version`."""
    lead.search_version = rules.SEARCH_VERSION
    return [LeadToken(t, lead.id) for t in _tokens(lead)]


def _decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    value = cursors.load(cursor)
    if not isinstance(value, dict) or set(value) != {"s"} or not isinstance(value["s"], str):
        raise ValidationError("cursor is not valid", {"field": "cursor"})
    after = value["s"]
    if not 0 < len(after) <= 64:
        raise ValidationError("cursor is not valid", {"field": "cursor"})
    return after


def parse(q: str) -> rules.Query:
    try:
        return rules.parse(q)
    except rules.BadQuery as exc:
        raise ValidationError(str(exc), {"field": "q"}) from None


def find(
    deps: Deps,
    query: rules.Query,
    spec: LeadFilter,
    limit: int,
    cursor: str | None,
    opted_out: bool = False,
) -> Page[Lead]:
    """One page of the leads holding every term of `query` and kept by `spec` (and, with
    `opted_out`, whose number is suppressed), newest first.

    Each round reads a page of lead ids from every term's partition (keys only, consistent)
    and keeps the ids all of them hold down to the lowest id every partition was read to (a
    merge of sorted lists); only those leads are fetched (BatchGetItem, 100 a request) and
    verified. At most MAX_ROUNDS rounds and MAX_FETCHES fetches: past them a shorter page
    with a cursor (a very common prefix under a very narrow filter never runs away)."""
    repo = deps.store.leads
    after = _decode(cursor)
    found: list[Lead] = []
    single = len(query.tokens) == 1
    fetches = 0
    for round_ in range(MAX_ROUNDS):
        # one term: its ids are the candidates (a page and one more first, every one may be a
        # hit); several: read deeper, most ids are dropped by the intersection for free
        size = (limit + 1 if round_ == 0 else _ROUND) if single else _IDS
        frontier: str | None = None  # every partition is read down to here (inclusive)
        common: set[str] | None = None
        ended: list[str | None] = []  # the lowest id of each partition read to its end
        for token in query.tokens:
            ids, more = repo.token_ids(token, after, size)
            if more and (frontier is None or ids[-1] > frontier):
                frontier = ids[-1]
            if not more:
                ended.append(ids[-1] if ids else None)
            common = set(ids) if common is None else common.intersection(ids)
        # a partition that ended at or above the frontier holds nothing further down: no lead
        # below can hold every term
        last_round = frontier is None or any(low is None or low >= frontier for low in ended)
        candidates = sorted(
            (i for i in common or () if frontier is None or i >= frontier), reverse=True
        )
        for start in range(0, len(candidates), _ROUND):
            if fetches >= MAX_FETCHES:
                return Page(found, cursors.dump({"s": after}) if after else None)
            chunk = candidates[start : start + _ROUND]
            fetches += 1
            leads = repo.get_many(chunk, consistent=True)
            kept = [
                leads[i]
                for i in chunk
                if i in leads and spec.keeps(leads[i]) and rules.matches(query, leads[i])
            ]
            if opted_out and kept:
                listed = deps.store.suppressions.get_many([lead.phone for lead in kept])
                kept = [x for x in kept if (s := listed.get(x.phone)) and s.listed_id]
            for lead in kept:
                found.append(lead)
                if len(found) > limit:
                    page = found[:limit]
                    return Page(page, cursors.dump({"s": page[-1].id}))
            after = chunk[-1]
        if last_round:
            return Page(found, None)  # nothing further down holds every term
        after = frontier
    # Candidates left unread: a shorter page, and where to go on from.
    return Page(found, cursors.dump({"s": after}) if after else None)
