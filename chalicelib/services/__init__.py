"""Business rules as plain functions: no Chalice, no HTTP."""
