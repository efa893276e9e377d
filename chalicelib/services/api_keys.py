"""API keys for integrations and scripts (admin only). The key is shown once, at creation;
only its SHA-256 is kept. Revoking takes effect at once: every request with a key reads its
record (a consistent GetItem), nothing caches it."""

from __future__ import annotations

from chalicelib.domain.actors import Actor
from chalicelib.domain.records import ApiKey
from chalicelib.errors import Forbidden, not_found
from chalicelib.identity import secrets
from chalicelib.services import audit
from chalicelib.services.deps import Deps
from chalicelib.store.base import ABSENT, ConditionFailed, Put, Update


def _require_admin(actor: Actor) -> None:
    if not actor.may("apikeys"):
        raise Forbidden("only admins can manage API keys")


def create(deps: Deps, actor: Actor, name: str, role: str) -> tuple[ApiKey, str]:
    """The stored key and the key itself (shown once)."""
    _require_admin(actor)
    key_id, key, digest = secrets.new_api_key()
    record = ApiKey(
        id=key_id,
        name=name,
        role=role,
        secret_hash=digest,
        created_at=deps.clock.now(),
        created_by=actor.id,
    )
    deps.store.write(Put("apikey", record, if_absent=True))
    audit.record(deps, actor, "apikey.created", ("apiKey", key_id), {"name": name, "role": role})
    return record, key


def list_keys(deps: Deps, actor: Actor) -> list[ApiKey]:
    _require_admin(actor)
    # Newest first, as every list (a key's id is random: its creation time orders them).
    return sorted(deps.store.api_keys.all(), key=lambda k: (k.created_at, k.id), reverse=True)


def revoke(deps: Deps, actor: Actor, key_id: str) -> ApiKey:
    _require_admin(actor)
    moment = deps.clock.now()
    try:
        record = deps.store.write(
            Update("revoke", ApiKey, key_id, {"revoked_at": moment}, {"revoked_at": ABSENT})
        )
    except ConditionFailed:
        existing = deps.store.api_keys.get(key_id)
        if existing is None:
            raise not_found("API key", key_id) from None
        return existing  # already revoked: nothing changes, nothing is logged again
    assert isinstance(record, ApiKey)
    audit.record(deps, actor, "apikey.revoked", ("apiKey", key_id), {"name": record.name})
    return record
