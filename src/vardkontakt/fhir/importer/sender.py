"""Who sends an import: the source system whose rows these are, and the care units it may write for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vardkontakt.access.audit import Actor


@dataclass(frozen=True)
class Sender:
    """A source system sending record data.

    ``units``: the care units whose record data it may write (an integration client's registered
    units); None for an import the operator runs from the command line, which may name any unit.
    The audit log names the source system as the actor of everything it writes.
    """

    source_system: str
    name: str = ""
    units: frozenset[uuid.UUID] | None = None

    @property
    def actor(self) -> Actor:
        label = f"{self.name} ({self.source_system})" if self.name else self.source_system
        return Actor("system", self.source_system[:64], f"Källsystem {label}")
