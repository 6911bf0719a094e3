"""Structural validation with the R4B models of `fhir.resources`, each shape of element once.

Validating a model of `fhir.resources` costs a fixed amount of Python per element (its own
validators walk every field of the class) whatever the element holds, and a Bundle from a journal
or lab system is thousands of resources of a few shapes: the same elements in the same places,
with other dates, values and identifiers. Validating the whole Bundle with the models took about
two thirds of an import (bench/record.py). So each element and resource is validated as its shape
(``Validator._validated``): its primitive values each by the validator its model uses for that
field, and the whole — which elements are there, which are null, the elements inside — by the model
itself, once per shape and import. Pydantic accepts a validated model in place of an element
without validating it again.

The answer is the models' answer (tests/fhir/test_validation.py holds it against them, issue by
issue). When anything is refused, the resource is validated once more the plain way
(``Model.model_validate``), so the issues name each place exactly as the models do. A resource
accepted before in this process, with the same JSON text, is not validated again (a resend, or the
same resource in the next Bundle): its validation depends on nothing else.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing
from collections import OrderedDict
from functools import cache
from typing import Annotated, Any

from fhir.resources.R4B.bundle import Bundle
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import BaseModel, TypeAdapter
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
    _lock: typing.ClassVar[threading.Lock] = threading.Lock()  # the server's threads share _accepted

    def __init__(self) -> None:
        # Shapes validated in this import (they name their elements' models by id(), so the models
        # are kept as long as the shapes), and each field's stand-in value.
        self._shapes: dict[tuple[Any, ...], FHIRAbstractModel] = {}
        self._stand_ins: dict[tuple[type[FHIRAbstractModel], str], Any] = {}
        self._valid: set[tuple[Any, ...]] = set()  # primitive values accepted, by model and field

    @classmethod
    def forget(cls) -> None:
        """Forget the resources accepted so far (bench/record.py measures a first import with it)."""
        with cls._lock:
            cls._accepted.clear()

    def bundle(self, data: dict[str, Any]) -> list[Issue]:
        """A transaction Bundle: its own elements and entries, then each entry's resource.

        Every entry's ``resourceType`` must already be known to be one of MODELS (bundle.py)."""
        entries = data.get("entry")
        if not isinstance(entries, list):
            return self._plain(Bundle, data, "Bundle")
        shell = {**data, "entry": [_without_resource(entry) for entry in entries]}
        try:
            self._validated(Bundle, shell)
            issues = []
        except (PydanticError, *UNREADABLE):
            issues = self._plain(Bundle, shell, "Bundle")
        for index, entry in enumerate(entries):
            if len(issues) >= ISSUE_LIMIT:
                break
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                issues += self.resource(entry["resource"], f"Bundle.entry[{index}].resource")
            elif isinstance(entry, dict) and entry.get("resource") is not None:
                # The shell above is validated without its resources: one that is not a JSON
                # object (a list, a string) is refused here, as the Bundle model would (make fuzz-fhir).
                issues.append(Issue(f"Bundle.entry[{index}].resource", "a resource must be a JSON object", "structure"))
        return issues[:ISSUE_LIMIT]

    def resource(self, data: dict[str, Any], where: str) -> list[Issue]:
        """One resource of a type in MODELS (named by its resourceType)."""
        model = MODELS[data["resourceType"]]
        try:
            text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON data (never so from a request body): no shortcuts
            return self._plain(model, data, where)
        digest = hashlib.blake2b(text.encode(), digest_size=20, person=b"vk-fhir-r4b").digest()
        with self._lock:
            if digest in self._accepted:
                self._accepted.move_to_end(digest)
                return []
        try:
            self._validated(model, data)
        except (PydanticError, *UNREADABLE):
            return self._plain(model, data, where)
        with self._lock:
            self._accepted[digest] = None
            if len(self._accepted) > ACCEPTED_LIMIT:
                self._accepted.popitem(last=False)
        return []

    def _validated(self, model: type[FHIRAbstractModel], data: dict[str, Any]) -> FHIRAbstractModel:
        """The model of a resource or element whose shape was seen before, else newly validated.

        Its shape is the data with each complex element replaced by that element's validated model
        and each primitive value (a date, a code, an identifier's value) by a stand-in: the first
        value of that field that its validator accepted. The value itself is checked by the same
        validator the model uses for that field. Fields are validated one by one, and what the
        models check of the whole (unknown elements, required ones, one type of a choice [x], no
        null in a list) depends on which elements are there and which are null, never on a
        primitive's value: so the data is valid exactly when its values are and its shape is.
        Anything refused raises, and the caller validates the resource the plain way."""
        shell: dict[str, Any] = {}
        shape: list[Any] = [model]
        elements, primitives = _fields(model)
        for key, value in data.items():
            element = elements.get(key)
            primitive = primitives.get(key)
            if (
                element is not None
                and element[0]
                and isinstance(value, list)
                and all(isinstance(i, dict) for i in value)
            ):
                shell[key] = [self._validated(element[1], item) for item in value]
                shape.append((key, tuple(id(item) for item in shell[key])))
            elif element is not None and not element[0] and isinstance(value, dict):
                shell[key] = self._validated(element[1], value)
                shape.append((key, id(shell[key])))
            elif primitive is not None and value is not None and not isinstance(value, (dict, list)):
                seen = (model, key, type(value), value)  # the type too: True == 1, yet not for a validator
                if seen not in self._valid:
                    if primitive.validate_python(value) is None:  # never so; but then it is no stand-in's equal
                        raise ValueError(key)
                    self._valid.add(seen)
                shell[key] = self._stand_ins.setdefault((model, key), value)
                shape.append(key)
            else:
                shell[key] = value
                shape.append((key, json.dumps(value, sort_keys=True)))
        known = self._shapes.get(tuple(shape))
        if known is None:
            known = model.model_validate(shell)
            self._shapes[tuple(shape)] = known
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
def _fields(
    model: type[FHIRAbstractModel],
) -> tuple[dict[str, tuple[bool, type[FHIRAbstractModel]]], dict[str, TypeAdapter[Any]]]:
    """A model's fields by their JSON name: the complex elements (whether a list, and the element's
    model) and the primitives (the validator the model uses for the field).

    Resources inside resources (``contained``, ``Bundle.entry.resource``) are neither: the model
    chooses their class by their resourceType. Nor are the ``_name`` siblings of primitives."""
    elements, primitives = {}, {}
    for name, info in model.model_fields.items():
        if name.endswith("__ext"):
            continue
        key = info.alias or name
        many, kind = _kind(info.annotation)
        if kind is not None:
            elements[key] = (many, kind)
        elif not many and not _holds_model(info.annotation):
            annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            primitives[key] = TypeAdapter(annotation)
    return elements, primitives


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, (FhirBase, BaseModel)):
        return True
    return any(_holds_model(arg) for arg in typing.get_args(annotation))


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
