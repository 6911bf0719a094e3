"""A unit's limit of web bookings per visit type, visit fees, calendar events that survive a move,
and calendar links that expire and say how much they tell.

The old calendar links are removed, not converted: each was permanent and put unit names (a
psychiatric clinic) and children's names into third-party calendars. A person makes a new one, with
a fresh e-ID login, minimal content by default and an expiry (issue 14, section 7).
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0004_holiday_opening"),
        ("identity", "0002_patient_protected_identity"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookingsettings",
            name="online_bookings_per_visit_type",
            field=models.PositiveSmallIntegerField(
                default=1, verbose_name="coming web bookings of one visit type per patient"
            ),
        ),
        migrations.AddField(
            model_name="visittype",
            name="fee_kronor",
            field=models.PositiveIntegerField(default=0, verbose_name="patient fee (kronor)"),
        ),
        migrations.AddField(
            model_name="slot",
            name="released_to_staff",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="booking",
            name="calendar_uid",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="booking",
            name="calendar_sequence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.DeleteModel(name="CalendarFeed"),
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("token_digest", models.CharField(max_length=64, unique=True)),
                ("detailed", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("last_fetched_at", models.DateTimeField(blank=True, null=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calendar_feeds",
                        to="identity.patient",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="feed_expires_after_made",
                    )
                ],
            },
        ),
    ]
