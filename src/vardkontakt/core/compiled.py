"""A read written once with the ORM, built and compiled to SQL once per process and database, then
run with each call's values.

For the few hot reads where Django's building and compiling of the queryset costs more than the
database's answer: the confirmation page's slot query took about 3 ms of CPU to build and compile
per request and well under 1 ms to run (issue 20). The ORM definition stays the only statement of
the rules; this only skips doing the same work again.

How: the query is built with a sentinel value for each argument (a random UUID, an instant in the
year 1901), compiled, and the positions where the sentinels' database values stand among the
parameters are remembered; the rest of the parameters are constants of the definition. A call
puts its own values, made ready for the database by the same field, in those places and turns the
rows into instances as ``QuerySet`` does (the model, its ``select_related`` rows, annotations).
A definition whose SQL depends on the values themselves (a list of any length, a filter added
only when a value is given) cannot be compiled this way: write a sentinel-free one.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=models.Model)


def _sentinel(field: models.Field[Any, Any]) -> Any:
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.DateTimeField):
        # No definition compares with an instant of 1901 to the microsecond.
        return dt.datetime(1901, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=random.randrange(1, 10**12))  # noqa: S311 - not a secret
    raise ImproperlyConfigured(f"no sentinel for a {type(field).__name__} argument")


def _prepared(field: models.Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    """The value as the ORM sends it to this database when comparing it with ``field``."""
    return field.get_db_prep_value(value, connection, prepared=False)


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]  # the definition's constants, with the sentinels where the values go
    arguments: tuple[tuple[int, str], ...]  # (position among the parameters, argument name)
    init_list: list[str]
    model_columns: slice
    related: list[Any]  # django's RelatedPopulator per select_related model
    annotations: dict[str, int]
    converters: list[tuple[int, list[Any], Any]]  # (column, converters, expression)


class CompiledRead(Generic[M]):
    """``build(**arguments)`` returns the queryset (sliced, ordered as wanted); ``arguments`` name
    the field each argument is compared with (it gives the sentinel and the value's database
    form). Calling the read with the same keyword arguments returns the list of instances."""

    def __init__(
        self, model: type[M], build: Callable[..., models.QuerySet[M]], **arguments: models.Field[Any, Any]
    ) -> None:
        self.model = model
        self._build = build
        self._arguments = arguments
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def queryset(self, **values: Any) -> models.QuerySet[M]:
        """The ORM definition itself with these values (what the compiled read must equal)."""
        return self._build(**values)

    def __call__(self, **values: Any) -> list[M]:
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        plan = self._plans.get(alias) or self._compile(alias)
        params = list(plan.params)
        for position, name in plan.arguments:
            params[position] = _prepared(self._arguments[name], values[name], connection)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        found = []
        for fetched in rows:
            row = list(fetched)
            for column, converters, expression in plan.converters:
                for converter in converters:
                    row[column] = converter(row[column], expression, connection)
            instance = self.model.from_db(alias, plan.init_list, row[plan.model_columns])
            for populator in plan.related:
                populator.populate(row, instance)
            for name, column in plan.annotations.items():
                setattr(instance, name, row[column])
            found.append(instance)
        return found

    def _compile(self, alias: str) -> _Plan:
        with self._lock:
            if alias in self._plans:
                return self._plans[alias]
            connection = connections[alias]
            sentinels = {name: _sentinel(field) for name, field in self._arguments.items()}
            compiler = self._build(**sentinels).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            prepared = {name: _prepared(self._arguments[name], value, connection) for name, value in sentinels.items()}
            arguments = tuple(
                (position, name)
                for position, param in enumerate(params)
                for name, value in prepared.items()
                if type(param) is type(value) and param == value
            )
            unused = set(sentinels) - {name for _, name in arguments}
            if unused:
                raise ImproperlyConfigured(f"{self.model.__name__} read: {sorted(unused)} not found in its SQL")
            select, klass_info = compiler.select, compiler.klass_info
            assert klass_info is not None and klass_info["model"] is self.model  # noqa: S101 - a model read
            columns = klass_info["select_fields"]
            fields = [column[0] for column in select[: compiler.col_count]]
            assert not compiler.has_composite_fields(fields)  # noqa: S101 - no composite keys here
            plan = _Plan(
                sql=sql,
                params=tuple(params),
                arguments=arguments,
                init_list=[column[0].target.attname for column in select[columns[0] : columns[-1] + 1]],
                model_columns=slice(columns[0], columns[-1] + 1),
                # django-stubs describe Django 6's signature (with fetch_mode); this is 5.2's.
                related=get_related_populators(klass_info, select, alias),  # type: ignore[call-arg]
                annotations=dict(compiler.annotation_col_map or {}),
                converters=[(column, convs, expr) for column, (convs, expr) in compiler.get_converters(fields).items()],
            )
            self._plans[alias] = plan
            return plan
