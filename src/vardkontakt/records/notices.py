"""Telling a patient that a new result has arrived: no content, and only if they asked for it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable

from vardkontakt.access import policy
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.records.models import LabResult, RecordPreferences, Referral
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


def notify_referral_status(referrals: Iterable[Referral], *, now: dt.datetime) -> int:
    """One notice per patient per import whose referral changed status ("Mina remisser").

    Not an opt-in like results: a referral's answer is something the person waits for. The same
    limits as for results otherwise: only a referral the patient may read (its unit's data is
    published to them), not while the record is sealed, not while they hide the last 14 days.
    The notice says nothing of the referral (notifications/messages.py).
    """
    by_patient: dict[uuid.UUID, list[Referral]] = defaultdict(list)
    for referral in referrals:
        by_patient[referral.patient_id].append(referral)
    hiding = set(
        RecordPreferences.objects.filter(patient_id__in=by_patient, hide_recent=True).values_list(
            "patient_id", flat=True
        )
    )
    cause = f"referrals:{uuid.uuid4()}"
    sent = 0
    for patient_id, changed in by_patient.items():
        patient = changed[0].patient
        if patient_id in hiding or policy.is_sealed(patient):
            continue
        if not Referral.objects.filter(unit_filter(patient, now), pk__in=[r.pk for r in changed]).exists():
            continue
        notification_create(
            recipient=patient, kind=NotificationKind.REFERRAL_STATUS, cause=cause, about=About.REFERRALS
        )
        sent += 1
    return sent
