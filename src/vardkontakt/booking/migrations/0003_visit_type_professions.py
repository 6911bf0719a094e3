"""A visit type states the professions that may hold it (issue 16 §4): the single ``profession``
becomes the list ``professions``, starting with the profession it had."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    VisitType = apps.get_model("booking", "VisitType")
    for visit_type in VisitType.objects.all():
        visit_type.professions = [visit_type.profession] if visit_type.profession else []
        visit_type.save(update_fields=["professions"])


def backwards(apps, schema_editor):
    VisitType = apps.get_model("booking", "VisitType")
    for visit_type in VisitType.objects.all():
        visit_type.profession = visit_type.professions[0] if visit_type.professions else "doctor"
        visit_type.save(update_fields=["profession"])


class Migration(migrations.Migration):
    dependencies = [("booking", "0002_calendar_feed_and_roll")]

    operations = [
        migrations.AddField(
            model_name="visittype",
            name="professions",
            field=models.JSONField(default=list, verbose_name="professions that may hold it"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="visittype", name="profession"),
    ]
