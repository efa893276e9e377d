"""Benchmarks (`make bench`, bench/run.py)."""

# The moment the compliance rules judge calls and texts by in the benchmarks that place them
# (`DEV_NOW` of a live stack, the rules clock in process): a Monday afternoon in New York, inside
# every state's window and the strictest one for numbers of no known zone. The benchmarks run at
# any hour; on the real clock at 03:00 in New York every call would be refused.
RULES_NOW = "2026-12-07T14:00:00-05:00"
