"""The resident's side of cases: write to a unit, my cases, the thread."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access.acting import acting_for
from vardkontakt.access.audit import Actor
from vardkontakt.cases import attachments, policy, selectors, services
from vardkontakt.cases.forms import MessageForm
from vardkontakt.cases.models import Attachment, Case
from vardkontakt.cases.questions import answers_as_read, answers_for_storage, asks_for_medicines, build_form
from vardkontakt.identity.decorators import PatientRequest, patient_required


@patient_required
@require_GET
def my_cases(request: PatientRequest) -> HttpResponse:
    subject = acting_for(request).subject
    rows = selectors.cases_of(reader=request.patient, subject=subject)
    return render(request, "cases/my_cases.html", {"rows": rows, "subject": subject})


@patient_required
@require_GET
def choose_unit(request: PatientRequest) -> HttpResponse:
    subject = acting_for(request).subject
    query = request.GET.get("q", "")[:100]
    listed, others = selectors.units_to_write_to(reader=request.patient, subject=subject, query=query)
    return render(request, "cases/choose_unit.html", {"listed": listed, "others": others, "query": query})


@patient_required
@require_GET
def choose_service(request: PatientRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = selectors.unit_offering(unit_id=str(unit_id))
    services_offered = unit.services.filter(active=True).order_by("name")
    return render(request, "cases/choose_service.html", {"unit": unit, "services": services_offered})


@patient_required
@require_http_methods(["GET", "POST"])
def write(request: PatientRequest, unit_id: uuid.UUID, service_id: uuid.UUID) -> HttpResponse:
    """Fill in → review → send. The answers travel in the form between the steps; nothing is
    stored until 'Send', and the idempotency key makes a double click send one case."""
    me = request.patient
    subject = acting_for(request).subject
    unit = selectors.unit_offering(unit_id=str(unit_id))
    service = selectors.active_service(reader=me, subject=subject, unit=unit, service_id=str(service_id))
    # Read on each step (form, review, send), so what is sent is checked against the record as it is now.
    medicines = (
        selectors.renewable_medicines(reader=me, subject=subject) if asks_for_medicines(service.questions) else None
    )
    form = build_form(
        service.questions,
        request.POST if request.method == "POST" else None,
        medicines=medicines,
        saved_mobile=me.mobile,  # the person writing is the one the unit calls back, also for a child
    )
    key = (request.POST.get("idempotency_key") or uuid.uuid4().hex)[:64]
    step = request.POST.get("step", "")
    file_errors: list[str] = []
    if request.method == "POST" and request.POST.get("remove_file"):
        # "Ta bort" beside an attached file: back to the form without it, the answers kept.
        attachments.attachments_remove_pending(
            uploader=me, submission_key=key, attachment_id=request.POST["remove_file"]
        )
        step = "edit"
    if request.method == "POST" and request.FILES.getlist("files"):
        try:
            attachments.attachments_store(files=request.FILES.getlist("files"), uploader=me, submission_key=key)
        except ValidationError as error:
            file_errors = error.messages
    context = {
        "unit": unit,
        "service": service,
        "form": form,
        "idempotency_key": key,
        "subject": subject,
        "attached": attachments.pending(uploader=me, submission_key=key),
        "file_errors": file_errors,
        "max_files": attachments.MAX_FILES,
    }
    if request.method == "POST" and step != "edit" and not file_errors and form.is_valid():
        answers = answers_for_storage(service.questions, form.cleaned_data, medicines=medicines)
        if step != "send":
            hidden = [(name, value) for name in form.fields for value in request.POST.getlist(name)]
            shown = answers_as_read(service.questions, answers)
            return render(request, "cases/review.html", {**context, "answers": shown, "hidden": hidden})
        try:
            case = services.case_create(
                actor=me, subject=subject, service=service, answers=answers, idempotency_key=key
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your case has been sent. You get an answer by %(date)s at the latest.")
                % {"date": _long_date(case.deadline_last_day)},
            )
            return redirect("cases:detail", case_id=case.id)
    return render(request, "cases/write.html", context)


def _long_date(day: dt.date) -> str:
    return date_format(day, "l j F")


def _detail_context(case: Case, form: MessageForm | None, *, file_errors: list[str] | None = None) -> dict[str, Any]:
    question = policy.open_question(case)
    return {
        "case": case,
        "thread": selectors.thread_for_patient(case),
        "question": question,
        "form": (form or MessageForm()) if question is not None else None,
        "file_errors": file_errors or [],
        "max_files": attachments.MAX_FILES,
        "can_withdraw": case.first_answered_at is None and case.is_open,
        "deadline": _long_date(case.deadline_last_day),
    }


@patient_required
@require_GET
def detail(request: PatientRequest, case_id: uuid.UUID) -> HttpResponse:
    case = selectors.case_for_patient(reader=request.patient, case_id=str(case_id))
    services.case_mark_seen(case=case, reader=request.patient)
    return render(request, "cases/detail.html", _detail_context(case, None))


@patient_required
@require_POST
def answer(request: PatientRequest, case_id: uuid.UUID) -> HttpResponse:
    """The service is the door (it asks the policy and logs the answer); only a page shown again,
    with what went wrong, reads the case."""
    me = request.patient
    form = MessageForm(request.POST)
    file_errors: list[str] = []
    if form.is_valid():
        try:
            services.case_patient_message(
                case_id=case_id, actor=me, body=form.cleaned_data["body"], files=request.FILES.getlist("files")
            )
        except ValidationError as error:
            if getattr(error, "code", None) in ("not_waiting", "empty"):
                form.add_error(None, error)
            else:
                file_errors = error.messages
        else:
            messages.success(request, _("Your answer has been sent."))
            return redirect("cases:detail", case_id=case_id)
    case = selectors.case_for_patient(reader=me, case_id=str(case_id))
    context = _detail_context(case, form, file_errors=file_errors)
    context["can_withdraw"] = False
    return render(request, "cases/detail.html", context, status=400)


@patient_required
@require_POST
def withdraw(request: PatientRequest, case_id: uuid.UUID) -> HttpResponse:
    """The service is the door: it asks the policy and logs the withdrawal; the case's page, where
    the resident is sent, reads it."""
    try:
        services.case_withdraw(case_id=case_id, actor=request.patient)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The case has been withdrawn."))
    return redirect("cases:detail", case_id=case_id)


@patient_required
@require_GET
def attachment(request: PatientRequest, case_id: uuid.UUID, attachment_id: uuid.UUID) -> FileResponse:
    me = request.patient
    case = selectors.case_for_patient(reader=me, case_id=str(case_id))
    found, path = selectors.attachment_of(case=case, attachment_id=str(attachment_id), reader=Actor.of_patient(me))
    return file_response(found, path)


def file_response(found: Attachment, path: Path) -> FileResponse:
    """Always a download, with the type found by content and a name the server made (never the
    sender's, whose extension could be .html or .hta): a file is never rendered in the browser."""
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=attachments.served_name(found), content_type=found.content_type
    )
