"""On PostgreSQL the database itself refuses to change or remove audit entries.

SQLite (the demo) has no such guard beyond the application; the hash chain still reveals changes.
TRUNCATE is left to the database owner (the test runner empties tables with it); in production
the application's database role should also lack TRUNCATE, UPDATE and DELETE on the table
(docs/operations.md).
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION access_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS access_auditentry_append_only ON access_auditentry;
CREATE TRIGGER access_auditentry_append_only
    BEFORE UPDATE OR DELETE ON access_auditentry
    FOR EACH ROW EXECUTE FUNCTION access_auditentry_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS access_auditentry_append_only ON access_auditentry;
DROP FUNCTION IF EXISTS access_auditentry_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
