"""The webhook burst of `make bench` (bench/bench_webhook_burst.py), bounded: 40 calls, their
~400 signed callbacks (duplicated, shuffled, TwiML fetches answered before what depends on
them) from 16 concurrent senders, over HTTP into `chalice local` on DynamoDB Local. Nothing is
lost or counted twice, nothing answers 5xx. No timing is asserted: `make bench` reports it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.bench_webhook_burst import burst
from tests.integration.conftest import LiveStack, live_stack_running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """A stack of its own: nobody else moves its counters during the burst."""
    with live_stack_running(ddb_local_endpoint, tmp_path_factory.mktemp("burst")) as s:
        yield s


def test_a_burst_of_concurrent_duplicated_shuffled_callbacks_loses_nothing(
    stack: LiveStack,
) -> None:
    result = burst(stack, calls=40, senders=16, rng_seed=8)
    assert result.callbacks > 300
    assert set(result.statuses) == {200}, (result.statuses, result.errors, stack.log_tail())
    assert result.mismatches == []


def test_the_check_sees_a_lost_update(stack: LiveStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verification is not vacuous: drop one call's last member-leg callback (every copy)
    and the call and its counter are reported."""
    from bench import bench_webhook_burst as wb

    original = wb.duplicated_and_shuffled

    def losing(hooks: list[wb.Hook], rng: Any) -> list[wb.Hook]:
        out = original(hooks, rng)
        final = next(h for h in out if "/status/" in h.path and "CallDuration" in dict(h.params))
        return [h for h in out if h != final]

    monkeypatch.setattr(wb, "duplicated_and_shuffled", losing)
    result = burst(stack, calls=12, senders=4, rng_seed=3)
    assert set(result.statuses) == {200}
    assert any(line.startswith("call ") for line in result.mismatches), result.mismatches
    assert any(line.startswith("counter call#") for line in result.mismatches)
