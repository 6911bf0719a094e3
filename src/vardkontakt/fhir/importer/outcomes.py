"""What an import answers: the issues that refuse it, or what happened to each resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticError


@dataclass
class Issue:
    location: str
    message: str
    code: str = "invalid"


class FhirRejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{issue.location}: {issue.message}" for issue in issues))
        self.issues = issues


@dataclass
class Outcome:
    """What happened to one resource: the row it became (None when taken back out), and whether new."""

    resource_type: str
    obj: Any
    created: bool
    retracted: bool = False


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    retracted: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: Outcome, model_name: str) -> None:
        self.outcomes.append(outcome)
        if outcome.retracted:
            self.retracted += 1
        elif outcome.created:
            self.created += 1
        else:
            self.updated += 1
        self.by_type[model_name] = self.by_type.get(model_name, 0) + 1


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": issue.code, "diagnostics": issue.message, "expression": [issue.location]}
            for issue in issues
        ],
    }


def pydantic_issues(where: str, error: PydanticError) -> list[Issue]:
    """Pydantic's locations in FHIRPath style: ('entry', 1, 'resource') → entry[1].resource."""
    issues = []
    for item in error.errors()[:20]:
        path = where
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        issues.append(Issue(path, item["msg"], "structure"))
    return issues
