"""Telling a patient that a new result has arrived: no content, and only if they asked for it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable

from vardkontakt.access import policy
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.records.models import LabResult, RecordPreferences
from vardkontakt.records.publishing import unit_filter


def notify_new_results(results: Iterable[LabResult], *, now: dt.datetime) -> int:
    """One notice per patient per import, for results the patient will be able to read.

    Not for results the publishing rules keep back (a notice about something they cannot see
    would worry and tell nothing), not when the record is sealed, and not while the patient has
    chosen to hide the last 14 days. Returns the number of notices queued.
    """
    by_patient: dict[uuid.UUID, list[LabResult]] = defaultdict(list)
    for result in results:
        by_patient[result.patient_id].append(result)
    wanted = RecordPreferences.objects.filter(
        patient_id__in=by_patient, notify_new_results=True, hide_recent=False
    ).select_related("patient")
    cause = f"import:{uuid.uuid4()}"
    sent = 0
    for preferences in wanted:
        patient = preferences.patient
        if policy.is_sealed(patient):
            continue
        ids = [r.pk for r in by_patient[patient.pk]]
        if not LabResult.objects.filter(unit_filter(patient, now), pk__in=ids).exists():
            continue
        notification_create(recipient=patient, kind=NotificationKind.NEW_RESULT, cause=cause, about=About.RESULTS)
        sent += 1
    return sent
