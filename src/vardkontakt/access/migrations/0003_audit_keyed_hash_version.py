"""Audit entries get keyed hashes (HMAC-SHA256). Entries written before carry version 0 (plain
SHA-256, as they were hashed); audit_verify accepts those only at the start of the chain. Adding
the column with a default rewrites no row, so PostgreSQL's append-only trigger is not involved."""

from django.db import migrations, models

CHOICES = [(0, "SHA-256"), (1, "HMAC-SHA256")]


class Migration(migrations.Migration):
    dependencies = [("access", "0002_audit_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(choices=CHOICES, default=0),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(choices=CHOICES, default=1),
        ),
    ]
