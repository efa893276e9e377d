"""The cost of authenticating a request (issue 13): what a signed-in member's request pays
before its route runs, and what an API key's pays.

- `auth_verify_ms`: one access-token check (RS256 signature, claims), the pool's keys cached.
- `auth_request_ms`: the whole `authenticate` for a member whose record this container read in
  the last 30 s (the usual case): the check plus a dictionary lookup.
- `auth_first_check_ms`: the first check in a fresh process (PyJWT and the RSA key loaded),
  what a cold start adds to the first signed-in request.
- `auth_ddb_requests_member_warm` / `_cold` / `_apikey`: DynamoDB requests added to a route:
  none for a member seen in the last 30 s, 2 GetItems (sign-in guard, member) otherwise, 1
  GetItem for an API key (read every time, so revoking bites at once).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
CLIENT = "bench-client"
ROUNDS = 2000

_FIRST = r"""
import json, time, sys
sys.path.insert(0, ".")
from bench.bench_auth import CLIENT, ISSUER, keys_and_token
jwks, token, now = keys_and_token()
t0 = time.perf_counter()
from chalicelib.identity.tokens import StaticKeys, TokenVerifier
TokenVerifier(ISSUER, CLIENT, StaticKeys(jwks)).verify(token, now)
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}))
"""


def keys_and_token(sub: str = "sub-1") -> tuple[dict[str, Any], str, float]:
    """A JWKS with one RSA key, and an access token signed with it as Cognito signs one."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update({"kid": "bench", "alg": "RS256", "use": "sig"})
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": sub,
        "client_id": CLIENT,
        "token_use": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "bench"})
    return {"keys": [public]}, token, now.timestamp()


def _median_ms(fn: Callable[[], Any], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(report: Callable[[str, float, str], None]) -> None:
    from chalicelib.clock import ManualClock
    from chalicelib.config import Settings
    from chalicelib.domain.records import ApiKey, Login, TeamMember
    from chalicelib.identity import secrets
    from chalicelib.identity.tokens import StaticKeys, TokenVerifier
    from chalicelib.services import auth
    from chalicelib.services.deps import Deps
    from chalicelib.store.base import Put
    from chalicelib.store.memory import MemoryStore

    jwks, token, now = keys_and_token()
    verifier = TokenVerifier(ISSUER, CLIENT, StaticKeys(jwks))
    report("auth_verify_ms", round(_median_ms(lambda: verifier.verify(token, now)), 3), "ms")

    store = MemoryStore()
    clock = ManualClock(datetime.fromtimestamp(now, UTC))
    deps = Deps(
        Settings(api_token=None),
        store,
        clock,
        lambda: None,  # type: ignore[arg-type,return-value]
        make_verifier=lambda: verifier,
    )
    stamp = clock.now()
    store.write(Put("m", TeamMember("m1", "Ann", "+14155550100", stamp, stamp, role="caller")))
    store.write(Put("sub", Login("sub#sub-1", "m1")))
    header = f"Bearer {token}"
    auth.authenticate(deps, header)
    report(
        "auth_request_ms",
        round(_median_ms(lambda: auth.authenticate(deps, header)), 3),
        "ms",
    )

    before = store.requests
    auth.authenticate(deps, header)
    report("auth_ddb_requests_member_warm", store.requests - before, "requests")
    deps.members_seen.clear()
    before = store.requests
    auth.authenticate(deps, header)
    report("auth_ddb_requests_member_cold", store.requests - before, "requests")
    key_id, key, digest = secrets.new_api_key()
    store.write(Put("k", ApiKey(key_id, "bench", "admin", digest, stamp, "m1")))
    before = store.requests
    auth.authenticate(deps, f"Bearer {key}")
    report("auth_ddb_requests_apikey", store.requests - before, "requests")

    firsts = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST], capture_output=True, text=True, check=True
        )
        firsts.append(json.loads(out.stdout.strip().splitlines()[-1])["ms"])
    report("auth_first_check_ms", round(statistics.median(firsts), 1), "ms")
