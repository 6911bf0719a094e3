"""The SQLite test database copied from a migrated template (tests/db_template.py): it is the
database the migrations make, and a changed migration makes a new template."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import db_template


@pytest.mark.django_db
def test_the_test_database_has_every_migration_applied():
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    tables = set(connection.introspection.table_names())
    assert {model._meta.db_table for model in executor.loader.project_state().apps.get_models()} <= tables


def test_a_changed_added_or_renamed_migration_makes_another_template(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_initial.py").write_text("operations = []\n")
    folders = [("app", folder)]
    engine = "django.db.backends.sqlite3"
    first = db_template.template_key(engine, folders)
    assert db_template.template_key(engine, folders) == first

    (folder / "0001_initial.py").write_text("operations = [1]\n")
    changed = db_template.template_key(engine, folders)
    (folder / "0002_more.py").write_text("operations = []\n")
    added = db_template.template_key(engine, folders)
    (folder / "0002_more.py").rename(folder / "0002_other.py")
    renamed = db_template.template_key(engine, folders)
    assert len({first, changed, added, renamed}) == 4
    assert db_template.template_key("django.db.backends.postgresql", folders) != renamed
