"""The SQLite test database copied from one migrated before with the same migrations.

Each test process makes its own test database (`var/test-vardkontakt-<pid>.sqlite3`), and
`migrate` of the ~120 migrations took 15-30 s of every process's start (Django renders the
project's state again and again; the SQL itself is quick). The result depends only on the
migrations, so the first process to migrate keeps a copy of the migrated file
(`var/test-db-templates/<key>.sqlite3`) and later processes, in this run or a later one, start
from a copy of it instead: the same file, byte for byte what `migrate` wrote.

The key is Django's version, the database engine and every migration file of every installed app
(their names and contents): a changed or new migration makes a new template, migrated for real.
Nothing outside the migrations writes to the database at `migrate` (the project has no
post_migrate receivers; Django's own, content types and permissions, follow the migrations' models).
PostgreSQL and an in-memory SQLite database are created as Django does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.db.backends.base.creation import BaseDatabaseCreation

_django_create_test_db = BaseDatabaseCreation.create_test_db
stats = {"migrated": 0, "copied": 0}


def migration_folders() -> list[tuple[str, Path]]:
    """(app label, its migrations folder) of every installed app."""
    return sorted((config.label, Path(config.path) / "migrations") for config in apps.get_app_configs())


def template_key(engine: str, folders: list[tuple[str, Path]] | None = None) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{django.get_version()}\0{engine}\0".encode())
    for label, folder in migration_folders() if folders is None else folders:
        hasher.update(f"{label}\0".encode())
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            hasher.update(f"{path.name}\0".encode())
            hasher.update(path.read_bytes())
            hasher.update(b"\0")
    return hasher.hexdigest()


def _templates() -> Path:
    return Path(settings.VAR_DIR) / "test-db-templates"


def _create_test_db(self: BaseDatabaseCreation, verbosity: int = 1, autoclobber: bool = False, **options: Any) -> str:
    name = self._get_test_db_name()  # type: ignore[attr-defined]
    if self.connection.vendor != "sqlite" or options.get("keepdb") or self.is_in_memory_db(name):  # type: ignore[attr-defined]
        return _django_create_test_db(self, verbosity, autoclobber, **options)
    template = _templates() / f"{template_key(self.connection.settings_dict['ENGINE'])}.sqlite3"
    if not template.exists():
        created = _django_create_test_db(self, verbosity, autoclobber, **options)
        _keep(created, template)
        stats["migrated"] += 1
        return created
    return _from_template(self, name, template, verbosity=verbosity, autoclobber=autoclobber, **options)


def _keep(database: str, template: Path) -> None:
    """A consistent copy of the migrated file (SQLite's backup: the WAL included), put in place at once."""
    template.parent.mkdir(parents=True, exist_ok=True)
    partial = template.with_name(f"{template.name}.{os.getpid()}.partial")
    source = sqlite3.connect(database)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    os.replace(partial, template)


def _from_template(
    self: BaseDatabaseCreation,
    name: str,
    template: Path,
    *,
    verbosity: int,
    autoclobber: bool,
    keepdb: bool = False,
    serialize: bool = True,
) -> str:
    """What Django's create_test_db does, with the migrated file copied in instead of migrating."""
    from django.core.management import call_command

    self._create_test_db(verbosity, autoclobber, keepdb)  # type: ignore[attr-defined]  # removes an old file
    self.connection.close()
    settings.DATABASES[self.connection.alias]["NAME"] = name
    self.connection.settings_dict["NAME"] = name
    partial = f"{name}.partial"
    shutil.copyfile(template, partial)
    os.replace(partial, name)
    if serialize:
        self.connection._test_serialized_contents = self.serialize_db_to_string()  # type: ignore[attr-defined]
    call_command("createcachetable", database=self.connection.alias)
    self.connection.ensure_connection()
    stats["copied"] += 1
    return name


def install() -> None:
    setattr(BaseDatabaseCreation, "create_test_db", _create_test_db)  # noqa: B010 (patched for the tests)
