"""HTTP layer: one Blueprint per resource. A route parses, calls a service, serialises.

`schemas.py` (request bodies, pydantic) is imported inside the routes that take a body, never
at module level: `import app`, and the routes that only read, then never load pydantic (cold
start; tests/unit/test_cold_start.py). `serialize.py` turns records into the API's JSON."""
