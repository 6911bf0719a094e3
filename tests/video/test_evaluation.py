"""The survey after a video visit: answered once (the database refuses a second answer), only by
someone who was in the ended visit, and reported per unit in the statistics."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from tests.conftest import Personas
from tests.video.conftest import logged_in, video_visit_of
from vardkontakt.identity.models import Patient, User
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.unit_page import unit_statistics
from vardkontakt.video import services
from vardkontakt.video.models import Evaluation, Participant, Room

pytestmark = pytest.mark.django_db

SCORES: dict[str, Any] = {"picture_and_sound": 4, "easy_to_join": 5, "helped": 3, "comment": "Bra"}


def ended_visit(personas: Personas, unit_x, patient: Patient, *, in_minutes: int = 5) -> Room:
    booking = video_visit_of(patient, unit_x, personas.staff_x, in_minutes=in_minutes)
    now = timezone.now()
    room = Room.objects.create(
        booking=booking, unit=unit_x, patient=patient, status="ended", created_at=now, ended_at=now
    )
    user = User.objects.get_or_create_for_patient(Patient.objects.get(pk=patient.pk))
    Participant.objects.create(room=room, user=user, role="patient", display_name=patient.full_name, admitted_at=now)
    return room


def test_an_answer_is_stored_once(personas: Personas, unit_x):
    room = ended_visit(personas, unit_x, personas.tolvan)
    tolvan = Patient.objects.get(pk=personas.tolvan.pk)
    services.evaluation_answer(actor=tolvan, booking_id=str(room.booking_id), **SCORES)
    with pytest.raises(services.AlreadyAnswered):
        services.evaluation_answer(actor=tolvan, booking_id=str(room.booking_id), **SCORES)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.create(
            room=room,
            unit=unit_x,
            answered_by=tolvan,
            picture_and_sound=1,
            easy_to_join=1,
            helped=1,
            answered_at=timezone.now(),
        )
    assert Evaluation.objects.filter(room=room).count() == 1


def test_scores_outside_one_to_five_are_refused(personas: Personas, unit_x):
    room = ended_visit(personas, unit_x, personas.tolvan)
    client = logged_in(personas.tolvan)
    url = reverse("video:evaluation", args=[room.booking_id])
    response = client.post(url, {**SCORES, "helped": "9"})
    assert response.status_code == 400
    assert not Evaluation.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.create(
            room=room,
            unit=unit_x,
            answered_by=personas.tolvan,
            picture_and_sound=6,
            easy_to_join=1,
            helped=1,
            answered_at=timezone.now(),
        )


def test_only_someone_who_was_in_the_visit_answers(personas: Personas, unit_x):
    room = ended_visit(personas, unit_x, personas.tolvan)
    other = Patient.objects.get(pk=personas.other_patient.pk)
    with pytest.raises(Http404):
        services.evaluation_answer(actor=other, booking_id=str(room.booking_id), **SCORES)
    assert logged_in(personas.other_patient).get(reverse("video:evaluation", args=[room.booking_id])).status_code == 404
    # Before the visit has ended there is nothing to evaluate.
    Room.objects.filter(pk=room.pk).update(status="open", ended_at=None)
    assert logged_in(personas.tolvan).get(reverse("video:evaluation", args=[room.booking_id])).status_code == 404


def test_the_units_statistics_show_the_mean_scores(personas: Personas, unit_x):
    for patient, helped, at in ((personas.tolvan, 3, 5), (personas.other_patient, 4, 30)):
        room = ended_visit(personas, unit_x, patient, in_minutes=at)
        answerer = Patient.objects.get(pk=patient.pk)
        services.evaluation_answer(actor=answerer, booking_id=str(room.booking_id), **{**SCORES, "helped": helped})
    today = timezone.localdate()
    with translation.override("en"):
        table = unit_statistics(unit_x, Period(today, today)).table("video-evaluations")
    assert table is not None
    rows = {row[0]: row[1] for row in table.rows}
    assert rows["The visit helped"] == "3.5"
    assert rows["Answers"] == "2"
    assert "Bra" not in str(table.rows)  # the free texts are not shown
