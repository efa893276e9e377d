"""Some of the bulk actions' tests again on DynamoDB (moto): the group transactions, their
named conditions and the single-lead fallback."""

from __future__ import annotations

import pytest

from tests.api.test_bulk import (  # noqa: F401
    crew,
    test_a_lead_edited_since_the_batch_read_is_not_overwritten,
    test_archive_and_restore_in_bulk,
    test_status_moves_the_funnel_and_counts_conversions,
    test_suppress_in_bulk_is_the_numbers_voice_and_sms,
)

pytestmark = pytest.mark.dynamo
