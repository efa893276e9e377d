"""Some of the inbox's tests again on DynamoDB (moto): the table, its two indexes, the
conditional Put in the message's transaction, the Update that leaves the sparse unread index,
the cursors."""

from __future__ import annotations

import pytest

from tests.api.test_inbox import (  # noqa: F401
    inbound,
    test_a_caller_sees_their_leads_and_unassigned_threads_and_follows_reassignment,
    test_a_redelivered_text_does_not_mark_the_thread_unread_again,
    test_a_text_ingested_late_never_replaces_a_newer_one,
    test_mark_read_clears_the_thread_and_the_count_and_unread_filters,
    test_mark_read_of_a_stale_item_leaves_a_newer_text_unread,
    test_pages_follow_the_cursor_without_repeats_for_a_caller,
    world,
)

pytestmark = pytest.mark.dynamo
