"""The OpenAPI description the fuzzer uses (make fuzz-fhir) covers the FHIR API the URLs serve."""

from __future__ import annotations

import schemathesis
from django.test import Client
from django.urls import reverse

from vardkontakt.fhir.importer import RESOURCE_TYPES
from vardkontakt.fhir.openapi import Values, openapi_description


def test_every_endpoint_and_type_of_the_capability_statement_is_described(db):
    description = openapi_description(Values(row_ids=["7f1c2b8e-0000-4000-8000-000000000000"]))
    statement = Client().get(reverse("fhir:metadata")).json()
    described = {r["type"] for r in statement["rest"][0]["resource"]}
    assert described == {*RESOURCE_TYPES, "Appointment", "Schedule", "Slot"}
    paths = description["paths"]
    assert {"/fhir/Appointment/_history", "/fhir/Appointment/{id}"} <= set(paths)
    assert {"get", "post", "put"} == set(paths["/fhir/Appointment"])
    assert {"/fhir", "/fhir/metadata", "/fhir/auth/token"} <= set(paths)
    for resource_type in described:
        assert paths[f"/fhir/{resource_type}/_search"]["post"]["requestBody"]["content"].keys() == {
            "application/x-www-form-urlencoded"
        }
        assert ("put" in paths[f"/fhir/{resource_type}"]) == (resource_type != "Patient")
        assert reverse("fhir:search", args=[resource_type]) == f"/fhir/{resource_type}/_search"
    # Schemathesis reads it: one operation per method and path.
    schema = schemathesis.openapi.from_dict(description)
    operations = list(schema.get_all_operations())
    assert all(hasattr(result, "ok") for result in operations), "every operation loads"
    assert len(operations) == sum(len(methods) for methods in paths.values())
