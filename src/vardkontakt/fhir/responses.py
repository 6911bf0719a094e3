"""FHIR JSON responses, shared by the token checks (auth) and the endpoints (views)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from vardkontakt.fhir.importer import Issue, operation_outcome

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def refuse(status: int, code: str, message: str, location: str = "") -> HttpResponse:
    """An OperationOutcome with one issue, at `status`."""
    return fhir_response(operation_outcome([Issue(location, message, code)]), status=status)
