"""A notice says what it is about (issue 16 §7), so the start page can link to it.

Notices already stored get it from their cause where the cause names the row itself: a booking's
("booking_confirmed:<id>", "reminder:<id>"...), a proxy's, a seal's, a case's will-call
("case:<id>:will_call:v<n>"), and a result import (the results page). A reply's cause names the
message, not the case, and is left without: such a notice keeps its plain words and no link.
"""

import uuid

from django.db import migrations, models

BOOKING_CAUSES = ("booking_confirmed", "booking_changed", "booking_cancelled", "reminder")


def _about(cause):
    head, _, rest = cause.partition(":")
    row_id = rest.split(":")[0]
    try:
        uuid.UUID(row_id)
    except ValueError:
        return "", ""
    if head in BOOKING_CAUSES:
        return "booking", row_id
    if head in ("proxy", "seal"):
        return head, row_id
    if head == "case" and ":will_call:" in cause:
        return "case", row_id
    if head == "import":
        return "results", ""
    return "", ""


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for notification in Notification.objects.filter(recipient__isnull=False, about="").iterator():
        about, about_id = _about(notification.cause)
        if about:
            notification.about, notification.about_id = about, about_id
            notification.save(update_fields=["about", "about_id"])


class Migration(migrations.Migration):

    dependencies = [
        ('identity', '0002_patient_protected_identity'),
        ('notifications', '0004_onboarding_interest'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='about',
            field=models.CharField(blank=True, choices=[('', 'nothing in particular'), ('booking', 'a booking'), ('case', 'a case'), ('proxy', 'a proxy'), ('seal', 'the seal of the record'), ('results', 'the results in the record')], max_length=16),
        ),
        migrations.AddField(
            model_name='notification',
            name='about_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['recipient', 'read_at', 'created_at'], name='notification_unread'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.CheckConstraint(condition=models.Q(('about__in', ['', 'booking', 'case', 'proxy', 'seal', 'results'])), name='notification_about_valid'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
