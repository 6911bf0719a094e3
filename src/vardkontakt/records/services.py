from __future__ import annotations

from vardkontakt.identity.models import Patient
from vardkontakt.records.models import RecordPreferences


def record_preferences_save(
    *, patient: Patient, show_unsigned: bool, hide_recent: bool, notify_new_results: bool = False
) -> RecordPreferences:
    """The patient's own choices about their record view (never made for them by a proxy)."""
    preferences, _ = RecordPreferences.objects.update_or_create(
        patient=patient,
        defaults={"show_unsigned": show_unsigned, "hide_recent": hide_recent, "notify_new_results": notify_new_results},
    )
    return preferences
