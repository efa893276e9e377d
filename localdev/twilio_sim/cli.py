"""``python -m localdev.twilio_sim``: the simulator as a process, as ``make dev`` runs it.

Kept apart from ``__main__`` so that `main` can be imported (and re-exported by the package)
without importing ``__main__``, which ``python -m`` must be the first to run.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from typing import Any

from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.rules import ACCOUNT_SID
from localdev.twilio_sim.server import Simulator

log = logging.getLogger("twilio_sim")


def main(argv: list[str] | None = None) -> int:
    try:
        env = SimConfig.from_env()
    except ValueError as exc:
        print(f"twilio simulator: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        prog="python -m localdev.twilio_sim", description="The local Twilio simulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=env.port, help="SIMULATOR_PORT (8900)")
    parser.add_argument("--app-base", default=env.app_base, help="SIM_APP_BASE: where webhooks go")
    parser.add_argument("--auth-token", default=env.auth_token, help="SIMULATOR_AUTH_TOKEN")
    parser.add_argument("--speed", type=float, default=env.speed, help="SIM_SPEED (10)")
    parser.add_argument(
        "--webhook-timeout", type=float, default=env.webhook_timeout, help="SIM_WEBHOOK_TIMEOUT"
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="[twilio-sim] %(message)s",
        stream=sys.stderr,
    )
    try:
        config = SimConfig(
            host=args.host,
            port=args.port,
            app_base=args.app_base.rstrip("/"),
            auth_token=args.auth_token,
            speed=args.speed,
            webhook_timeout=args.webhook_timeout,
        )
        sim = Simulator(config)
    except (ValueError, OSError) as exc:
        print(f"twilio simulator: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    sim.start()
    log.warning(
        "Twilio simulator on %s (account %s, webhooks to %s, speed x%g)",
        sim.url,
        ACCOUNT_SID,
        config.app_base,
        config.speed,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
