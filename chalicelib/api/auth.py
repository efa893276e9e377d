"""Sign-in: /auth/login, /auth/new-password, /auth/refresh, /auth/logout, and /me."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import json_body, route
from chalicelib.api.serialize import team_member_out
from chalicelib.domain.actors import Actor
from chalicelib.identity.provider import Challenge
from chalicelib.providers import deps
from chalicelib.services import auth

bp = Blueprint(__name__)


def _signed_in(answer: auth.SignedIn | Challenge) -> dict[str, Any]:
    if isinstance(answer, Challenge):
        return {"challenge": answer.name, "session": answer.session}
    return {
        "accessToken": answer.access_token,
        "refreshToken": answer.refresh_token,
        "expiresIn": answer.expires_in,
        "member": team_member_out(answer.member),
    }


def _address(request: Request) -> str | None:
    """The client's address as API Gateway saw it (never a header the client can set)."""
    identity = (getattr(request, "context", None) or {}).get("identity") or {}
    address = identity.get("sourceIp")
    return str(address) if address else None


@route(bp, "/auth/login", ["POST"], public=True)
def login(request: Request) -> dict[str, Any]:
    from chalicelib.api.schemas import Login, parse

    body = parse(Login, json_body(request))
    return _signed_in(auth.login(deps(), body.email, body.password, _address(request)))


@route(bp, "/auth/new-password", ["POST"], public=True)
def new_password(request: Request) -> dict[str, Any]:
    from chalicelib.api.schemas import NewPassword, parse

    body = parse(NewPassword, json_body(request))
    return _signed_in(auth.new_password(deps(), body.email, body.session, body.new_password))


@route(bp, "/auth/refresh", ["POST"], public=True)
def refresh(request: Request) -> dict[str, Any]:
    from chalicelib.api.schemas import Refresh, parse

    body = parse(Refresh, json_body(request))
    tokens = auth.refresh(deps(), body.refresh_token)
    return {"accessToken": tokens.access_token, "expiresIn": tokens.expires_in}


@route(bp, "/auth/logout", ["POST"])
def logout(request: Request, actor: Actor) -> Response:
    auth.logout(deps(), actor)
    return Response(body="", status_code=204)


@route(bp, "/me", ["GET"])
def me(request: Request, actor: Actor) -> dict[str, Any]:
    who = auth.me(deps(), actor)
    if "member" in who:
        return team_member_out(who["member"])
    return who
