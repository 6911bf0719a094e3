""""Kontakta mig" forms ask for the number to call: the seed's yes/no question "Går det bra att vi
ringer dig?" becomes a question of the new "call_back" kind (yes or no, and the number to call,
filled in from the resident's settings and changeable).

Only the seed's question is changed (its key, or its label where a unit has saved the form and the
keys were renumbered), in any service that asks it; a question a unit wrote itself is left as it is.
Cases already sent keep their answers: the staff's case page calls the sender's saved mobile for a
"yes" given before this change (cases/selectors.py, call_back_for_staff).
"""

from django.db import migrations

SEED_KEY = "phone_ok"
SEED_LABEL = "Går det bra att vi ringer dig?"


def _converted(questions, to_kind, from_kind):
    changed = False
    for question in questions:
        if question.get("kind") != from_kind:
            continue
        if question.get("key") == SEED_KEY or question.get("label") == SEED_LABEL:
            question["kind"] = to_kind
            changed = True
    return changed


def _convert(apps, to_kind, from_kind):
    for model in ("Service", "RegionServiceForm"):
        for form in apps.get_model("cases", model).objects.all():
            if _converted(form.questions, to_kind, from_kind):
                form.save(update_fields=["questions"])


def forwards(apps, schema_editor):
    _convert(apps, "call_back", "yes_no")


def backwards(apps, schema_editor):
    _convert(apps, "yes_no", "call_back")


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_unit_received")]

    operations = [migrations.RunPython(forwards, backwards)]
