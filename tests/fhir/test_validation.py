"""The import's validation (importer/validation.py) answers exactly as the R4B models do.

It validates each shape of element once and each primitive with the model's own field validator,
and remembers resources it accepted. These tests hold its answer against the plain
``Model.model_validate`` of the same resource, issue by issue, for a good resource and for every
place in it spoilt in many ways, each after the good one was seen (so the spoilt one meets shapes,
stand-ins and remembered resources)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError as PydanticError

from tests.fhir.test_import import everything, note, observation
from vardkontakt.fhir.importer import MODELS
from vardkontakt.fhir.importer.outcomes import Issue, pydantic_issues
from vardkontakt.fhir.importer.validation import UNREADABLE, Validator, unreadable

BAD_VALUES: list[Any] = [
    None,
    "",
    "  ",
    "x",
    "2026-13-45",
    "2026-10-02T08:15:00",  # a dateTime with a time needs its zone
    "2026",
    0,
    -1,
    7.5,
    True,
    [],
    [None],
    ["x"],
    {},
    {"unknownElement": 1},
    {"resourceType": "Nonsense"},
    [{"unknownElement": 1}],
]


def plain(resource: dict[str, Any], where: str) -> list[Issue]:
    try:
        MODELS[resource["resourceType"]].model_validate(resource)
    except PydanticError as error:
        return pydantic_issues(where, error)
    except UNREADABLE:
        return [unreadable(where)]
    return []


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and list item in a resource, below its top level too (not resourceType itself)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if path or key != "resourceType":
                yield (*path, key)
                yield from places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*path, index)
            yield from places(inner, (*path, index))


def spoilt(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = copy.deepcopy(value)
    return changed


def with_more(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An unknown element, a second type of a choice, and a null in each dict of the resource."""
    for path in [(), *(p for p in places(resource) if isinstance(_at(resource, p), dict))]:
        for key, value in [("unknownElement", "x"), ("valueString", "7,2"), ("id", None), ("_status", {"x": 1})]:
            changed = copy.deepcopy(resource)
            _at(changed, path)[key] = value
            yield changed


def _at(resource: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        resource = resource[step]
    return resource


RESOURCES = [entry["resource"] for entry in everything()["entry"]]


@pytest.mark.parametrize("good", RESOURCES, ids=[r["resourceType"] for r in RESOURCES])
def test_every_spoilt_place_gets_the_models_own_issues(good):
    Validator.forget()
    validator = Validator()
    assert validator.resource(good, "R") == plain(good, "R") == []
    assert validator.resource(good, "R") == []  # remembered
    variants = [spoilt(good, path, value) for path in places(good) for value in BAD_VALUES]
    variants += list(with_more(good))
    refused = 0
    for variant in variants:
        expected = plain(variant, "R")
        assert validator.resource(variant, "R") == expected, variant
        assert Validator().resource(variant, "R") == expected, variant  # and with nothing seen before
        refused += bool(expected)
    assert refused > len(variants) / 3  # most spoilings are refused; the rest are valid FHIR too


def test_good_resources_of_new_values_in_known_shapes_are_accepted_and_bad_ones_refused():
    validator = Validator()
    for number in range(50):
        good = observation(f"o{number}", effectiveDateTime=f"2026-10-{number % 28 + 1:02d}T08:15:00+02:00")
        assert validator.resource(good, "R") == []
    late = observation("late", effectiveDateTime="2026-10-32T08:15:00+02:00")
    assert validator.resource(late, "R") == plain(late, "R") != []
    unzoned = note("unzoned", date="2026-10-01T10:00:00")
    assert validator.resource(unzoned, "R") == plain(unzoned, "R") != []


def test_a_bundle_is_refused_in_its_entries_and_resources_as_by_the_models():
    data = everything()
    assert Validator().bundle(data) == []
    del data["entry"][1]["request"]["method"]  # required
    data["entry"][2]["resource"]["recordedDate"] = "yesterday"
    data["entry"][3]["fullUrl"] = 5
    issues = Validator().bundle(data)
    locations = {issue.location.split(".")[1] for issue in issues}
    assert locations == {"entry[1]", "entry[2]", "entry[3]"}, issues
    with pytest.raises(PydanticError) as models:
        Bundle.model_validate(data)
    assert {issue.location for issue in issues} == {issue.location for issue in pydantic_issues("Bundle", models.value)}
