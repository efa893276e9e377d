"""Pure code, no I/O: records, statuses, counter rules, opt-out words, calling hours."""
