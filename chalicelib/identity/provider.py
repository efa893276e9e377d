"""The identity provider seam: what the app asks of Amazon Cognito (or of the local emulator
that speaks its API), in its own words. `CognitoProvider` is the one implementation shipped;
unit tests use `identity.fake.FakeProvider`.

boto3's cognito-idp client is created on first use (only the sign-in and team routes need it).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True)
class Challenge:
    """Cognito wants more before it hands out tokens (a first sign-in: a new password)."""

    name: str
    session: str


class BadCredentials(Exception):
    """Wrong e-mail or password, an unknown or disabled user, an expired or revoked refresh
    token, or an expired challenge session: the caller learns no more than that."""


class PasswordRejected(Exception):
    """The provider refused a new password (its policy)."""


class ProviderBusy(Exception):
    """The provider throttled us."""


class UserExists(Exception):
    pass


class IdentityProvider(Protocol):
    def sign_in(self, email: str, password: str) -> Tokens | Challenge: ...
    def answer_new_password(
        self, email: str, session: str, new_password: str
    ) -> Tokens | Challenge: ...
    def refresh(self, refresh_token: str) -> Tokens: ...
    def create_user(self, email: str, temporary_password: str, send_email: bool) -> str:
        """Create the sign-in with a temporary password (e-mailed by the provider when
        `send_email`); returns the user's `sub`. UserExists when the e-mail is taken."""
        ...

    def user_sub(self, email: str) -> str | None:
        """The `sub` of the user with this e-mail, or None."""
        ...

    def reset_password(self, email: str, temporary_password: str, send_email: bool) -> None:
        """A new temporary password: the next sign-in must set a new one."""
        ...

    def set_permanent_password(self, email: str, password: str) -> None:
        """Set a password the user signs in with directly (no new-password step)."""
        ...

    def change_email(self, old: str, new: str) -> None: ...
    def set_enabled(self, email: str, enabled: bool) -> None: ...
    def sign_out_everywhere(self, email: str) -> None:
        """Revoke the user's refresh tokens at the provider (best effort: the app refuses ended
        sessions itself, DESIGN.md "Identity")."""
        ...


class CognitoProvider:
    def __init__(
        self, region: str, pool_id: str, client_id: str, endpoint: str | None = None
    ) -> None:
        self.region = region
        self.pool_id = pool_id
        self.client_id = client_id
        self.endpoint = endpoint
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.client(
                    "cognito-idp",
                    region_name=self.region,
                    endpoint_url=self.endpoint,
                    config=Config(connect_timeout=3, read_timeout=8, retries={"max_attempts": 2}),
                )
            return self._client

    def _call(self, op: str, **params: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.client, op)(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in ("NotAuthorizedException", "UserNotFoundException", "CodeMismatchException"):
                raise BadCredentials(message) from None
            if code in ("InvalidPasswordException",):
                raise PasswordRejected(message) from None
            if code in ("TooManyRequestsException", "LimitExceededException"):
                raise ProviderBusy(message) from None
            if code == "UsernameExistsException":
                raise UserExists(message) from None
            raise

    def _answer(self, resp: dict[str, Any]) -> Tokens | Challenge:
        if resp.get("ChallengeName"):
            return Challenge(resp["ChallengeName"], resp.get("Session", ""))
        result = resp["AuthenticationResult"]
        return Tokens(
            access_token=result["AccessToken"],
            # The emulator omits ExpiresIn; the session code reads `exp` from the token then.
            expires_in=int(result.get("ExpiresIn", 0)),
            refresh_token=result.get("RefreshToken"),
        )

    def sign_in(self, email: str, password: str) -> Tokens | Challenge:
        try:
            resp = self._call(
                "initiate_auth",
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except PasswordRejected as exc:
            # The local emulator answers a wrong password this way; Cognito with
            # NotAuthorizedException. Either is a failed sign-in.
            raise BadCredentials(str(exc)) from None
        return self._answer(resp)

    def answer_new_password(
        self, email: str, session: str, new_password: str
    ) -> Tokens | Challenge:
        resp = self._call(
            "respond_to_auth_challenge",
            ClientId=self.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
        )
        return self._answer(resp)

    def refresh(self, refresh_token: str) -> Tokens:
        resp = self._call(
            "initiate_auth",
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        answer = self._answer(resp)
        if not isinstance(answer, Tokens):
            raise BadCredentials("unexpected challenge on refresh")
        return answer

    def create_user(self, email: str, temporary_password: str, send_email: bool) -> str:
        params: dict[str, Any] = {
            "UserPoolId": self.pool_id,
            "Username": email,
            "TemporaryPassword": temporary_password,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        }
        if send_email:
            params["DesiredDeliveryMediums"] = ["EMAIL"]
        else:
            params["MessageAction"] = "SUPPRESS"
        user = self._call("admin_create_user", **params)["User"]
        return _sub(user.get("Attributes", [])) or self.user_sub(email) or ""

    def user_sub(self, email: str) -> str | None:
        try:
            user = self._call("admin_get_user", UserPoolId=self.pool_id, Username=email)
        except BadCredentials:
            return None
        return _sub(user.get("UserAttributes", []))

    def reset_password(self, email: str, temporary_password: str, send_email: bool) -> None:
        self._call(
            "admin_set_user_password",
            UserPoolId=self.pool_id,
            Username=email,
            Password=temporary_password,
            Permanent=False,
        )
        if send_email:
            # RESEND mails the invitation again, with this temporary password.
            self._call(
                "admin_create_user",
                UserPoolId=self.pool_id,
                Username=email,
                TemporaryPassword=temporary_password,
                MessageAction="RESEND",
                DesiredDeliveryMediums=["EMAIL"],
            )

    def set_permanent_password(self, email: str, password: str) -> None:
        self._call(
            "admin_set_user_password",
            UserPoolId=self.pool_id,
            Username=email,
            Password=password,
            Permanent=True,
        )

    def change_email(self, old: str, new: str) -> None:
        self._call(
            "admin_update_user_attributes",
            UserPoolId=self.pool_id,
            Username=old,
            UserAttributes=[
                {"Name": "email", "Value": new},
                {"Name": "email_verified", "Value": "true"},
            ],
        )

    def set_enabled(self, email: str, enabled: bool) -> None:
        op = "admin_enable_user" if enabled else "admin_disable_user"
        with contextlib.suppress(BadCredentials):  # no such user: nothing to change
            self._call(op, UserPoolId=self.pool_id, Username=email)

    def sign_out_everywhere(self, email: str) -> None:
        from botocore.exceptions import ClientError

        # The local emulator does not implement it; the app's own session rules refuse the
        # member's tokens either way.
        with contextlib.suppress(BadCredentials, ClientError):
            self._call("admin_user_global_sign_out", UserPoolId=self.pool_id, Username=email)


def _sub(attributes: list[dict[str, str]]) -> str | None:
    return next((a["Value"] for a in attributes if a.get("Name") == "sub"), None)
