"""The deploy creates the first admin (scripts/deploy.create_first_admin): their member record in
the stage's tables and their sign-in in the stage's user pool (moto's cognito-idp), idempotent."""

from __future__ import annotations

from typing import Any

from infra.template import StageConfig
from scripts import deploy

REGION = "us-east-1"


def _pool(session: Any) -> tuple[str, str]:
    idp = session.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="coldcall-admintest", UsernameAttributes=["email"])
    pool_id = pool["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="api",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    return pool_id, client["UserPoolClient"]["ClientId"]


def test_the_first_admin_is_created_once_with_a_sign_in(session, monkeypatch):
    from chalicelib.config import Settings
    from chalicelib.store.dynamo import DynamoStore
    from chalicelib.store.tables import ensure_tables

    cfg = StageConfig("coldcall", "admintest")
    settings = Settings(app_name="coldcall", stage="admintest", region=REGION)
    ensure_tables(settings)
    pool_id, client_id = _pool(session)

    line = deploy.create_first_admin(
        cfg, REGION, pool_id, client_id, "Boss@Example.com", "+14155550100"
    )
    assert line == "Admin: boss@example.com (Cognito e-mailed them a temporary password)"
    store = DynamoStore(settings)
    member_id = store.logins.member_id("email#boss@example.com")
    member = store.members.get(member_id or "")
    assert member is not None and member.role == "admin" and member.active
    assert member.phone == "+14155550100"
    user = session.client("cognito-idp").admin_get_user(
        UserPoolId=pool_id, Username="boss@example.com"
    )
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    assert store.logins.member_id(f"sub#{sub}") == member.id

    again = deploy.create_first_admin(cfg, REGION, pool_id, client_id, "boss@example.com")
    assert again == "Admin: boss@example.com (already set up)"
    assert [m.id for m in store.members.all()] == [member.id]
    actions = [e.action for e in store.audit.page(None, 10, None).items]
    assert actions == ["member.created"]
