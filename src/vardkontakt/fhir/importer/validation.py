"""Structural validation with the R4B models of `fhir.resources`, each distinct element once.

Validating a model of `fhir.resources` costs a fixed amount of Python per element (its own
validators walk every field of the class), whatever the element holds, and a Bundle from a
journal or lab system repeats the same elements over and over: the same patient reference, the
same care-unit extension, the same analysis code and reference range in thousands of entries.
So an element is validated once per import: its validated model is kept under its type and its
JSON text, and where it occurs again the kept model stands in for it, which the models accept as
they are (pydantic does not validate a model instance again). The resource around it is still
validated by its own model: its fields, required elements, choice types ([x]), unknown elements.

The answer is the models' answer. When anything is refused, the resource is validated once more
the plain way (``Model.model_validate``), so the issues name each place exactly as the models do.
A resource accepted before in this process, with the same JSON text, is not validated again
(a resend, or the same resource in the next Bundle): validation depends on nothing else.
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections import OrderedDict
from functools import cache
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import ValidationError as PydanticError

from vardkontakt.fhir.importer.outcomes import Issue, pydantic_issues
from vardkontakt.fhir.importer.vocabulary import MODELS

# What the models raise on some malformed nested resources besides their ValidationError (a
# resourceType that is not a string or not a known type, deep inside): found by make fuzz-fhir.
UNREADABLE = (KeyError, TypeError, AttributeError, ValueError)
# Digests of resources accepted in this process; about 100 bytes each.
ACCEPTED_LIMIT = 200_000
ISSUE_LIMIT = 20


def unreadable(where: str) -> Issue:
    return Issue(where, "not a valid FHIR R4 resource (a nested resourceType is not a known type)", "structure")


class Validator:
    """Validates the resources of one import; the elements it has seen are kept until it goes."""

    _accepted: typing.ClassVar[OrderedDict[bytes, None]] = OrderedDict()

    def __init__(self) -> None:
        self._elements: dict[tuple[type[FHIRAbstractModel], str], FHIRAbstractModel] = {}

    def bundle(self, data: dict[str, Any]) -> list[Issue]:
        """A transaction Bundle: its own elements and entries, then each entry's resource.

        Every entry's ``resourceType`` must already be known to be one of MODELS (bundle.py)."""
        entries = data.get("entry")
        if not isinstance(entries, list):
            return self._plain(Bundle, data, "Bundle")
        shell = {**data, "entry": [_without_resource(entry) for entry in entries]}
        issues = self._plain(Bundle, shell, "Bundle")
        for index, entry in enumerate(entries):
            if len(issues) >= ISSUE_LIMIT:
                break
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                issues += self.resource(entry["resource"], f"Bundle.entry[{index}].resource")
        return issues[:ISSUE_LIMIT]

    def resource(self, data: dict[str, Any], where: str) -> list[Issue]:
        """One resource of a type in MODELS (named by its resourceType)."""
        model = MODELS[data["resourceType"]]
        try:
            text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON data (never so from a request body): no shortcuts
            return self._plain(model, data, where)
        digest = hashlib.blake2b(text.encode(), digest_size=20, person=b"vk-fhir-r4b").digest()
        if digest in self._accepted:
            self._accepted.move_to_end(digest)
            return []
        try:
            model.model_validate(self._with_known_elements(model, data))
        except (PydanticError, *UNREADABLE):
            return self._plain(model, data, where)
        self._accepted[digest] = None
        if len(self._accepted) > ACCEPTED_LIMIT:
            self._accepted.popitem(last=False)
        return []

    def _with_known_elements(self, model: type[FHIRAbstractModel], data: dict[str, Any]) -> dict[str, Any]:
        """The resource or element with each complex element replaced by its validated model."""
        fields = _element_fields(model)
        out = dict(data)
        for key, value in data.items():
            field = fields.get(key)
            if field is None:
                continue
            many, element = field
            if many and isinstance(value, list) and all(isinstance(item, dict) for item in value):
                out[key] = [self._element(element, item) for item in value]
            elif not many and isinstance(value, dict):
                out[key] = self._element(element, value)
        return out

    def _element(self, model: type[FHIRAbstractModel], data: dict[str, Any]) -> FHIRAbstractModel:
        key = (model, json.dumps(data, sort_keys=True, separators=(",", ":")))
        known = self._elements.get(key)
        if known is None:
            known = model.model_validate(self._with_known_elements(model, data))
            self._elements[key] = known
        return known

    @staticmethod
    def _plain(model: type[FHIRAbstractModel], data: Any, where: str) -> list[Issue]:
        try:
            model.model_validate(data)
        except PydanticError as error:
            return pydantic_issues(where, error)
        except UNREADABLE:
            return [unreadable(where)]
        return []


def _without_resource(entry: Any) -> Any:
    return {k: v for k, v in entry.items() if k != "resource"} if isinstance(entry, dict) else entry


@cache
def _element_fields(model: type[FHIRAbstractModel]) -> dict[str, tuple[bool, type[FHIRAbstractModel]]]:
    """The JSON names of a model's complex element fields: whether a list, and the element's model.

    Resources inside resources (``contained``, ``Bundle.entry.resource``) are left to the model,
    which chooses their class by their resourceType; so are primitives and their ``_name`` siblings."""
    fields = {}
    for name, info in model.model_fields.items():
        if name.endswith("__ext"):
            continue
        many, kind = _kind(info.annotation)
        if kind is None:
            continue
        fields[info.alias or name] = (many, kind)
    return fields


def _kind(annotation: Any) -> tuple[bool, type[FHIRAbstractModel] | None]:
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is None:
            break
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is list:
            many = True
        if len(args) != 1:
            return many, None
        annotation = args[0]
    if not (isinstance(annotation, type) and issubclass(annotation, FhirBase)):
        return many, None
    if issubclass(annotation, FhirElementOrResourceBase):
        return many, None
    klass = annotation.get_model_klass()
    if getattr(klass, "has_resource_base", lambda: False)():
        return many, None
    return many, klass
