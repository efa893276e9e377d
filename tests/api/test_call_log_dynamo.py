"""Some of the call log's tests again on DynamoDB (moto): the by-day and by-member Queries with
their id bounds, across days, and the meeting counters."""

from __future__ import annotations

import pytest

from tests.api.test_call_log import (  # noqa: F401
    calling,
    log,
    test_a_caller_sees_their_own_calls_only,
    test_a_long_quiet_range_answers_with_a_cursor_and_ends,
    test_meetings_count_in_the_stats_and_on_the_leaderboard,
    test_pages_span_days_without_repeats_or_gaps,
    test_the_teams_calls_of_the_range_newest_first_with_names_and_outcomes,
)

pytestmark = pytest.mark.dynamo
