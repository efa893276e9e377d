"""HTTP layer: one Blueprint per resource. A route parses, calls a service, serialises."""
