"""What a parsed PATCH body says beyond its values: the fields the client sent (a null clears
one) and the version it edited, as the services' `Patch` command. Reads only
`model_fields_set`, so it needs no pydantic import of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.services.team import Patch

if TYPE_CHECKING:
    from chalicelib.api.schemas import Body


def patch_of(body: Body) -> Patch:
    values = {f: getattr(body, f) for f in body.model_fields_set if f != "version"}
    return Patch(values, getattr(body, "version", None))
