"""Rows of several tables written in one statement on PostgreSQL (data-modifying ``WITH`` parts).

A booking writes six tables (the booking, its notices, their deliveries and task, the audit entry
and the change feed). One statement for all of them costs the database one parse, plan and round
trip instead of one each, and costs the web server no ORM compiling: the text of a model's insert
is made once per process and row count (:func:`insert_text`), and the values are what ``save()``
would store (the model's ``pre_save`` and ``post_save`` signals are sent around it, each field's
``pre_save`` and database preparation applied).

Every value is a parameter; the text holds only the models' own table and column names.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection
from django.db.models import AutoField, BigAutoField, Field, Model, SmallAutoField
from django.db.models.signals import post_save, pre_save

_GENERATED = (AutoField, BigAutoField, SmallAutoField)


@functools.cache
def written_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """The columns an insert gives: every concrete field but a key the database numbers itself."""
    return [f for f in model._meta.concrete_fields if not isinstance(f, _GENERATED)]


# The texts of up to this many rows are kept (a request's few); a batch's (thousands of audit
# entries in an import) is made each time, so that the process keeps no text of every size.
KEPT_ROWS = 16


def insert_text(model: type[Model], rows: int, returning: tuple[str, ...] = ()) -> str:
    """``INSERT INTO table (columns) VALUES (%s, …), …`` for ``rows`` rows, with ``RETURNING``
    the named columns: made once per process for each model and row count up to KEPT_ROWS."""
    return _kept_insert_text(model, rows, returning) if rows <= KEPT_ROWS else _insert_text(model, rows, returning)


def _insert_text(model: type[Model], rows: int, returning: tuple[str, ...]) -> str:
    qn = connection.ops.quote_name
    fields = written_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    text = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "  # noqa: S608 (names of the model; values are parameters)
        f"VALUES {', '.join([row] * rows)}"
    )
    return f"{text} RETURNING {', '.join(qn(name) for name in returning)}" if returning else text


_kept_insert_text = functools.cache(_insert_text)


def insert_values(objs: Sequence[Model]) -> list[Any]:
    """The parameters of :func:`insert_text` for ``objs`` (all of one model): each field's value as
    ``save()`` would store it, after the model's ``pre_save`` signal."""
    model = type(objs[0])
    fields = written_fields(model)
    values: list[Any] = []
    for obj in objs:
        pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
        values.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
    return values


def mark_saved(objs: Sequence[Model]) -> None:
    """After the statement: ``objs`` are rows of the database now, and ``post_save`` says so."""
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
        post_save.send(
            sender=type(obj), instance=obj, created=True, raw=False, using=connection.alias, update_fields=None
        )


@dataclass
class OneStatement:
    """The parts of one ``WITH`` statement, each a name and its data-modifying text; run with the
    ``SELECT`` that ends it. Every part runs, whether or not the ``SELECT`` reads it."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    inserted: list[Model] = field(default_factory=list)

    def add(self, name: str, text: str, params: Sequence[Any] = ()) -> OneStatement:
        self.parts.append(f"{name} AS ({text})")
        self.params.extend(params)
        return self

    def insert(self, name: str, objs: Sequence[Model], returning: tuple[str, ...] = ()) -> OneStatement:
        if objs:
            self.add(name, insert_text(type(objs[0]), len(objs), returning), insert_values(objs))
            self.inserted.extend(objs)
        return self

    def run(self, select: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Execute it; the inserted objects are marked saved only once it has run."""
        text, values = f"WITH {', '.join(self.parts)} {select}", [*self.params, *params]
        if connection.queries_logged:  # the query log shows the values in the text (%s only)
            with connection.cursor() as cursor:
                cursor.execute(text, values)
                rows = cursor.fetchall()
        else:
            with _numbered_cursor() as cursor:
                cursor.execute(_numbered(text), values)
                rows = cursor.fetchall()
        mark_saved(self.inserted)
        return rows


def _numbered_cursor() -> Any:
    """A cursor that sends the text as it is, its parameters numbered ($1, $2, …) already
    (psycopg's RawCursor), wrapped as Django wraps its own (the execute wrappers). psycopg turns
    %s into $n itself and keeps the result only for texts under 4 KB and 50 parameters; a
    booking's statement is longer, and was converted anew every time (about half a millisecond of
    the web server's CPU per booking)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    return connection.make_cursor(psycopg.RawCursor(connection.connection))  # type: ignore[arg-type]


def _numbered(text: str) -> str:
    """``text`` with its ``%s`` placeholders numbered; a request's statements are kept converted (a
    batch of thousands of rows is converted each time it runs, as psycopg would)."""
    return _kept_numbered(text) if len(text) <= KEPT_TEXT else _number(text)


KEPT_TEXT = 32_000


def _number(text: str) -> str:
    pieces = text.split("%s")
    numbered = [pieces[0]]
    for number, piece in enumerate(pieces[1:], start=1):
        numbered.append(f"${number}{piece}")
    return "".join(numbered)


_kept_numbered = functools.lru_cache(maxsize=256)(_number)
