"""The simulator's settings, checked once at start-up so a bad value fails loudly there rather
than as a strange call walk later."""

from __future__ import annotations

import os
from dataclasses import dataclass

from localdev.twilio_sim.rules import is_url

DEFAULT_AUTH_TOKEN = "simulated-auth-token"
DEFAULT_PORT = 8900
DEFAULT_APP_BASE = "http://127.0.0.1:8000"
DEFAULT_SPEED = 10.0
DEFAULT_WEBHOOK_TIMEOUT = 15.0


@dataclass(frozen=True)
class SimConfig:
    """How one simulator runs; `from_env` reads the variables of the package docstring."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    app_base: str = DEFAULT_APP_BASE
    auth_token: str = DEFAULT_AUTH_TOKEN
    speed: float = DEFAULT_SPEED
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("SIM_SPEED must be positive")
        if self.webhook_timeout <= 0:
            raise ValueError("SIM_WEBHOOK_TIMEOUT must be positive")
        if not is_url(self.app_base):
            raise ValueError(f"the app base must be an http(s) URL, got {self.app_base!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SimConfig:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            port=int(get("SIMULATOR_PORT") or DEFAULT_PORT),
            app_base=(get("SIM_APP_BASE") or DEFAULT_APP_BASE).rstrip("/"),
            auth_token=get("SIMULATOR_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN,
            speed=float(get("SIM_SPEED") or DEFAULT_SPEED),
            webhook_timeout=float(get("SIM_WEBHOOK_TIMEOUT") or DEFAULT_WEBHOOK_TIMEOUT),
        )
