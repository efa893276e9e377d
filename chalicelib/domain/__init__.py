"""The domain's vocabulary, pure: no I/O, and neither pydantic, pynamodb nor chalice."""
