"""A column that holds one of its codes (a status, a kind, a channel), checked by the database.

``CheckConstraint(condition=one_of("status", Status.values), ...)`` instead of
``Q(status__in=...)``. Same rule, another text on PostgreSQL: ``IN (...)`` is stored as one
expression node per code (each a constant with its coercion), and PostgreSQL reads a table's
check constraints back from that stored text (``stringToNode``) and simplifies them again on every
statement that writes the table. ``= ANY('{...}'::text[])`` is stored as one constant array. For
the notices' 21 kinds the stored text went from 5,030 to 1,977 characters, and what the check adds
to an insert from 33-45 µs to 17-19 µs (pgbench, docs/benchmarks.md "Cost per booking, seventh
pass"); a booking writes seven tables with such checks. SQLite keeps ``IN (...)``.

The codes are written into the constraint's text, not passed as parameters (a constraint has
none), so only code-like values are accepted: letters, digits, ``_ . / -`` or the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Lookup, Q

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

_CODE = re.compile(r"[A-Za-z0-9_./-]*")


@CharField.register_lookup
class OneOf(Lookup):
    lookup_name = "one_of"
    prepare_rhs = False

    def _codes(self) -> list[str]:
        codes = [str(code) for code in self.rhs]
        for code in codes:
            if not _CODE.fullmatch(code):
                raise ValueError(f"not a code: {code!r}")
        if not codes:
            raise ValueError("one_of needs at least one code")
        return codes

    def as_sql(self, compiler: Any, connection: Any) -> _AsSqlType:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        listed = ", ".join(f"'{code}'" for code in self._codes())
        return f"{lhs} IN ({listed})", lhs_params

    def as_postgresql(self, compiler: Any, connection: Any) -> _AsSqlType:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array = ",".join(f'"{code}"' for code in self._codes())
        return f"({lhs})::text = ANY('{{{array}}}'::text[])", lhs_params


def one_of(field: str, codes: Iterable[Any]) -> Q:
    """The condition "``field`` holds one of ``codes``" for a CheckConstraint."""
    return Q(**{f"{field}__one_of": [str(code) for code in codes]})
