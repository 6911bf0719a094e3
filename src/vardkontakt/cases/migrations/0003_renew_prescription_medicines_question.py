"""Renew-prescription forms list the person's renewable medicines: the free-text question that asked
which medicines becomes a question of the new "medicines" kind (a list to tick plus a text box).

Only the seed's question is changed (its key, or its label where a unit has saved the form and the
keys were renumbered); a question a unit wrote itself is left as it is.
"""

from django.db import migrations

KIND = "renew_prescription"
SEED_KEY = "medicines"
SEED_LABEL = "Vilka läkemedel vill du förnya?"


def _converted(questions, to_kind, from_kind):
    changed = False
    for question in questions:
        if question.get("kind") != from_kind:
            continue
        if question.get("key") == SEED_KEY or question.get("label") == SEED_LABEL:
            question["kind"] = to_kind
            changed = True
            break  # one medicines question per form
    return changed


def _convert(apps, to_kind, from_kind):
    for model in ("Service", "RegionServiceForm"):
        for form in apps.get_model("cases", model).objects.filter(kind=KIND):
            if _converted(form.questions, to_kind, from_kind):
                form.save(update_fields=["questions"])


def forwards(apps, schema_editor):
    _convert(apps, "medicines", "long_text")


def backwards(apps, schema_editor):
    _convert(apps, "long_text", "medicines")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_attachment")]

    operations = [migrations.RunPython(forwards, backwards)]
