"""PostgreSQL: the grants of the application's database role, given by the owner of the tables.

The application must not own its tables: the owner could drop the audit log's append-only trigger
(ALTER TABLE ... DISABLE TRIGGER needs ownership) and then change or remove entries. Migrations run
as the owner; the web and worker processes connect as a separate role with these grants. Run this
as the owner after every ``migrate`` (new tables get the same grants by default privileges, and
this takes UPDATE, DELETE and TRUNCATE on the audit table away again). See docs/operations.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

AUDIT_TABLE = "access_auditentry"


def statements(role: str, owner: str) -> list[sql.Composable]:
    r, o = sql.Identifier(role), sql.Identifier(owner)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(o, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
        ).format(o, r),
        # The audit log: read and append only.
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), r
        ),
    ]


class Command(BaseCommand):
    help = "PostgreSQL: grant the application's role what it needs, and on the audit log only SELECT and INSERT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("role", help="the role the web and worker processes connect as")
        parser.add_argument("--apply", action="store_true", help="run the statements (default: print them)")

    def handle(self, *args: Any, role: str, apply: bool, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Only PostgreSQL has roles and grants; SQLite (the demo) has neither.")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.rolsuper, pg_has_role(%s, c.relowner, 'MEMBER'), pg_get_userbyid(c.relowner) "
                "FROM pg_roles r, pg_class c WHERE r.rolname = %s AND c.relname = %s",
                [role, role, AUDIT_TABLE],
            )
            row = cursor.fetchone()
        if row is None:
            raise CommandError(f"No role {role!r}, or no audit table yet (run migrate first, as the owner).")
        superuser, member_of_owner, owner = row
        if superuser or member_of_owner:
            raise CommandError(
                f"The role {role!r} is a superuser or the tables' owner ({owner}) or a member of it: it could disable "
                "the audit log's append-only trigger. Connect the application as a separate, plain role."
            )
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements(role, owner):
                text = statement.as_string(cursor.connection)
                if apply:
                    cursor.execute(text)
                self.stdout.write(f"{text};")
        if apply:
            self.stdout.write(self.style.SUCCESS(f"Granted {role}; on {AUDIT_TABLE} it has SELECT and INSERT only."))
