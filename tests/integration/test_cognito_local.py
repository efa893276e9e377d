"""The local Cognito (localdev/cognito.py) against the real cognito-local, with boto3: the pool
and its client are ensured by name (a restart finds them, data kept in its folder), an invited
user signs in with the temporary password, answers NEW_PASSWORD_REQUIRED, and gets RS256 tokens
whose issuer is the COGNITO_ISSUER `make dev` hands the API and whose signature verifies
against the emulator's JWKS with PyJWT, as the app's verifier will."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import cognito
from localdev.stack import cognito_local_running, free_port

pytestmark = pytest.mark.integration

TEMP_PASSWORD = "TempPassword12"
NEW_PASSWORD = "NewPassword123"


@pytest.fixture(scope="module")
def pool() -> Iterator[cognito.LocalPool]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is missing: cognito-local cannot run")
    with cognito_local_running("coldcall-ittest") as found:
        yield found


def invite(pool: cognito.LocalPool, email: str) -> str:
    idp = cognito.client(pool.endpoint)
    user = idp.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=email,
        TemporaryPassword=TEMP_PASSWORD,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )["User"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    return str(user["Username"])


def sign_in_first_time(pool: cognito.LocalPool, email: str) -> dict[str, str]:
    idp = cognito.client(pool.endpoint)
    challenge = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": TEMP_PASSWORD},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert "AuthenticationResult" not in challenge
    answer = idp.respond_to_auth_challenge(
        ClientId=pool.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": NEW_PASSWORD},
    )
    result: dict[str, str] = answer["AuthenticationResult"]
    return result


def test_the_pool_and_client_are_ensured_once_and_configured_as_the_stack(pool):
    again = cognito.ensure_pool(pool.endpoint, pool.port, "coldcall-ittest")
    assert again == pool
    idp = cognito.client(pool.endpoint)
    names = [p["Name"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]]
    assert names.count("coldcall-ittest") == 1
    clients = idp.list_user_pool_clients(UserPoolId=pool.pool_id, MaxResults=60)
    assert len(clients["UserPoolClients"]) == 1
    described = idp.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    policy = described["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 12
    assert policy["RequireUppercase"] and policy["RequireLowercase"] and policy["RequireNumbers"]
    app = idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id)
    app = app["UserPoolClient"]
    assert set(app["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert "ClientSecret" not in app
    assert pool.env() == {
        "COGNITO_ENDPOINT": pool.endpoint,
        "COGNITO_USER_POOL_ID": pool.pool_id,
        "COGNITO_CLIENT_ID": pool.client_id,
        "COGNITO_ISSUER": f"http://127.0.0.1:{pool.port}/{pool.pool_id}",
    }


def test_first_sign_in_needs_a_new_password_and_the_token_verifies_with_pyjwt(pool):
    import jwt

    email = "first.sign-in@example.com"
    sub = invite(pool, email)
    tokens = sign_in_first_time(pool, email)
    access = tokens["AccessToken"]

    header = jwt.get_unverified_header(access)
    assert header["alg"] == "RS256"
    unverified = jwt.decode(access, options={"verify_signature": False})
    assert unverified["iss"] == pool.issuer  # what COGNITO_ISSUER is set to under make dev

    jwks = jwt.PyJWKClient(pool.issuer + "/.well-known/jwks.json")
    key = jwks.get_signing_key_from_jwt(access)
    claims = jwt.decode(
        access,
        key.key,
        algorithms=["RS256"],
        issuer=pool.issuer,
        options={"require": ["exp", "iat", "iss", "sub", "token_use", "client_id"]},
    )
    assert claims["token_use"] == "access"
    assert claims["client_id"] == pool.client_id
    assert claims["sub"] == sub

    # A token signed with another key does not verify against the emulator's JWKS.
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(dict(claims), other, algorithm="RS256", headers={"kid": header["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.key, algorithms=["RS256"], issuer=pool.issuer)

    # After the challenge: a plain sign-in with the new password works, the old one does not.
    idp = cognito.client(pool.endpoint)
    again = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": NEW_PASSWORD},
    )
    assert "AccessToken" in again["AuthenticationResult"]
    # Cognito answers NotAuthorizedException to a wrong password; cognito-local 5.3.0 answers
    # InvalidPasswordException (the app must treat both as "wrong e-mail or password").
    with pytest.raises(
        (idp.exceptions.NotAuthorizedException, idp.exceptions.InvalidPasswordException)
    ):
        idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": TEMP_PASSWORD},
        )


def test_what_the_emulator_answers_where_it_differs_from_cognito(pool):
    """Pinned, so an upgrade of cognito-local that changes them is noticed (README, "The local
    Cognito"): no ExpiresIn in AuthenticationResult (the access token's `exp` says it: the
    client's 60 minutes), and an unknown user is NotAuthorizedException as in Cognito."""
    import jwt

    email = "gaps@example.com"
    invite(pool, email)
    tokens = sign_in_first_time(pool, email)
    claims = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert "ExpiresIn" not in tokens
    idp = cognito.client(pool.endpoint)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "nobody@example.com", "PASSWORD": NEW_PASSWORD},
        )


def test_a_refresh_token_from_a_password_sign_in_gives_a_new_access_token(pool):
    email = "refresh@example.com"
    invite(pool, email)
    sign_in_first_time(pool, email)
    idp = cognito.client(pool.endpoint)
    tokens = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": NEW_PASSWORD},
    )["AuthenticationResult"]
    refreshed = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert refreshed["AccessToken"]


def test_a_restart_keeps_the_pool_the_users_and_the_issuer(tmp_path: Path):
    if shutil.which("node") is None:
        pytest.skip("Node.js is missing: cognito-local cannot run")
    data_dir = tmp_path / "cognito"
    port = free_port()
    proc = cognito.start(data_dir, port)
    try:
        first = cognito.ensure_pool(cognito.endpoint(port), port, "coldcall-restart")
        invite(first, "kept@example.com")
    finally:
        cognito.stop(proc)
    assert (data_dir / ".cognito" / "db").is_dir()
    config = json.loads((data_dir / ".cognito" / "config.json").read_text())
    assert config["TokenConfig"]["IssuerDomain"] == f"http://127.0.0.1:{port}"

    proc = cognito.start(data_dir, port)
    try:
        second = cognito.ensure_pool(cognito.endpoint(port), port, "coldcall-restart")
        assert second == first
        tokens = sign_in_first_time(second, "kept@example.com")
        import jwt

        claims = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
        assert claims["iss"] == second.issuer
    finally:
        cognito.stop(proc)
