"""Brev: the resident's letters (their own, or those of whom they act for), each open logged."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from vardkontakt.access.acting import acting_for
from vardkontakt.identity.decorators import PatientRequest, patient_required
from vardkontakt.letters import selectors, services


@patient_required
@require_GET
def inbox(request: PatientRequest) -> HttpResponse:
    subject = acting_for(request).subject
    letters = selectors.letters_of(reader=request.patient, subject=subject)
    return render(request, "letters/inbox.html", {"subject": subject, "letters": letters})


@patient_required
@require_GET
def detail(request: PatientRequest, letter_id: uuid.UUID) -> HttpResponse:
    letter = services.letter_open(reader=request.patient, letter_id=letter_id)
    body = letter.html_en if translation.get_language() == "en" and letter.html_en else letter.html_sv
    context = {"letter": letter, "body": body, **selectors.actions_for(letter)}
    return render(request, "letters/detail.html", context)


@patient_required
@require_GET
def letter_pdf(request: PatientRequest, letter_id: uuid.UUID) -> HttpResponse:
    letter = services.letter_open(reader=request.patient, letter_id=letter_id, action=services.PDF)
    if letter.content_removed_at:
        return render(request, "letters/removed.html", {"letter": letter}, status=410)
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    # Neutral: the file name says only that it is a letter and when it came.
    response["Content-Disposition"] = f'attachment; filename="brev-{letter.issued_at:%Y-%m-%d}.pdf"'
    return response
