"""The unit's side of cases: the inbox and handling a case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access.audit import Actor
from vardkontakt.cases import policy, selectors, services
from vardkontakt.cases.defaults import DEFAULT_QUESTIONS, DEFAULT_TERMS, SWEDISH_NAMES, ServiceKind
from vardkontakt.cases.forms import (
    AssignForm,
    CloseForm,
    QuestionFormSet,
    ServiceDefinitionForm,
    StaffMessageForm,
    VersionForm,
    formset_initial,
    questions_from_formset,
)
from vardkontakt.cases.models import Case
from vardkontakt.cases.views import file_response
from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.identity.models import Profession, Staff


@staff_required
@require_GET
def inbox(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = selectors.inbox_unit(staff=me, unit_id=str(unit_id))
    listing = request.GET.get("list", "open")
    if listing not in selectors.INBOX_LISTS:
        listing = "open"
    service_uuid = _uuid_or_none(request.GET.get("service", ""))
    service_id = str(service_uuid) if service_uuid and unit.services.filter(pk=service_uuid).exists() else ""
    profession = request.GET.get("profession", "")
    if profession not in Profession.values:
        profession = ""
    found = selectors.inbox(staff=me, unit=unit, listing=listing, service_id=service_id, profession=profession)
    return render(
        request,
        "cases/inbox.html",
        {
            "unit": unit,
            "inbox": found,
            "listing": listing,
            "lists": selectors.INBOX_LISTS,
            "services": unit.services.order_by("name"),
            "service_id": service_id,
            "profession": profession,
            "professions": Profession.choices,
            "now": timezone.now(),
            "may_manage": policy.staff_may_manage_services(me, unit),
        },
    )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _case_page(request: StaffRequest, case: Case, *, status: int = 200, **forms: Any) -> HttpResponse:
    profession = request.GET.get("profession", "")
    return render(
        request,
        "cases/staff_case.html",
        {
            "case": case,
            "call_back": selectors.call_back_for_staff(staff=request.staff, case=case),
            "thread": case.messages.select_related("author_staff", "author_patient"),
            "openings": selectors.openings_of(case),
            "reply_form": forms.get("reply_form") or StaffMessageForm(initial={"version": case.version}),
            "note_form": forms.get("note_form") or StaffMessageForm(initial={"version": case.version}),
            "close_form": forms.get("close_form") or CloseForm(initial={"version": case.version}),
            "colleagues": selectors.colleagues(
                unit=case.unit, profession=profession if profession in Profession.values else ""
            ),
            "professions": Profession.choices,
            "profession": profession,
            "now": timezone.now(),
        },
        status=status,
    )


@staff_required
@require_GET
def case_detail(request: StaffRequest, case_id: uuid.UUID) -> HttpResponse:
    case = selectors.case_for_staff(staff=request.staff, case_id=str(case_id))
    return _case_page(request, case)


def _run(request: StaffRequest, case: Case, action: str) -> HttpResponse:
    me = request.staff
    if action in ("reply", "ask", "note"):
        form = StaffMessageForm(request.POST)
        if not form.is_valid():
            return _case_page(request, case, status=400, **{"note_form" if action == "note" else "reply_form": form})
        version, body = form.cleaned_data["version"], form.cleaned_data["body"]
        if action == "note":
            services.case_note(case=case, by=me, body=body, version=version)
            return _done(request, case, _("The note is saved. Patients never see notes."))
        services.case_reply(case=case, by=me, body=body, version=version, ask=action == "ask")
        return _done(request, case, _("Your message has been sent."))
    if action == "assign":
        assign = AssignForm(request.POST)
        colleague = Staff.objects.filter(pk=assign.cleaned_data["to"]).first() if assign.is_valid() else None
        if colleague is None:
            raise Http404
        services.case_assign(case=case, by=me, to=colleague, version=assign.cleaned_data["version"])
        return _done(request, case, _("The case is assigned to %(name)s.") % {"name": colleague.full_name})
    if action == "close":
        close = CloseForm(request.POST)
        if not close.is_valid():
            return _case_page(request, case, status=400, close_form=close)
        services.case_close(
            case=case, by=me, outcome=close.cleaned_data["outcome"], version=close.cleaned_data["version"]
        )
        return _done(request, case, _("The case is closed."))
    version_form = VersionForm(request.POST)
    if not version_form.is_valid():
        raise Http404
    version = version_form.cleaned_data["version"]
    if action == "will_call":
        services.case_will_call(case=case, by=me, version=version)
        return _done(request, case, _("The patient is told that the unit will call."))
    if action == "reopen":
        services.case_reopen(case=case, by=me, version=version)
        return _done(request, case, _("The case is open again."))
    raise Http404


def _done(request: HttpRequest, case: Case, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("cases_staff:case", case_id=case.id)


@staff_required
@require_POST
def case_action(request: StaffRequest, case_id: uuid.UUID, action: str) -> HttpResponse:
    case = selectors.case_for_staff(staff=request.staff, case_id=str(case_id))
    try:
        return _run(request, case, action)
    except services.CaseConflict:
        # Someone else changed the case: show it as it is now, and keep what was typed.
        case.refresh_from_db()
        kept = StaffMessageForm(initial={"version": case.version, "body": request.POST.get("body", "")})
        messages.error(
            request,
            _(
                "Someone else changed this case while you were working on it. Check what is new; your text is kept below."
            ),
        )
        target = "note_form" if action == "note" else "reply_form"
        return _case_page(request, case, status=409, **{target: kept})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("cases_staff:case", case_id=case.id)


@staff_required
@require_GET
def unit_services(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = selectors.unit_for_service_admin(staff=request.staff, unit_id=str(unit_id))
    offered = {service.kind: service for service in unit.services.all()}
    kinds = [(value, label, offered.get(value)) for value, label in ServiceKind.choices]
    return render(request, "cases/unit_services.html", {"unit": unit, "kinds": kinds})


@staff_required
@require_POST
def service_activate(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = selectors.inbox_unit(staff=me, unit_id=str(unit_id))
    kind = request.POST.get("kind", "")
    if kind not in ServiceKind.values:
        raise Http404
    services.service_activate(unit=unit, kind=kind, by=me)
    messages.success(request, _("The service is now offered to patients."))
    return redirect("cases_staff:services", unit_id=unit.id)


@staff_required
@require_GET
def attachment(request: StaffRequest, case_id: uuid.UUID, attachment_id: uuid.UUID) -> FileResponse:
    me = request.staff
    case = selectors.case_for_staff(staff=me, case_id=str(case_id))
    found, path = selectors.attachment_of(case=case, attachment_id=str(attachment_id), reader=Actor.of_staff(me))
    return file_response(found, path)


def _definition_page(
    request: HttpRequest,
    *,
    title: str,
    caption: str,
    initial: dict[str, Any],
    questions: list[dict[str, Any]],
    save: Callable[[dict[str, Any], list[dict[str, Any]]], Any],
    back: str,
    show_active: bool,
) -> HttpResponse:
    """The shared editor of a service: name (checked against the naming rules), terms, professions, questions."""
    posted = request.method == "POST"
    form = ServiceDefinitionForm(request.POST if posted else None, initial=initial)
    formset = QuestionFormSet(request.POST if posted else None, initial=formset_initial(questions), prefix="q")
    if posted and form.is_valid() and formset.is_valid():
        try:
            save(form.cleaned_data, questions_from_formset(formset))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The service is saved."))
            return redirect(back)
    return render(
        request,
        "cases/service_form.html",
        {
            "form": form,
            "formset": formset,
            "title": title,
            "caption": caption,
            "back": back,
            "show_active": show_active,
        },
        status=400 if posted else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def service_edit(request: StaffRequest, unit_id: uuid.UUID, service_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    service = selectors.service_for_admin(staff=me, unit_id=str(unit_id), service_id=str(service_id))
    unit = service.unit

    def save(data: dict[str, Any], questions: list[dict[str, Any]]) -> Any:
        return services.service_update(
            service=service,
            by=me,
            name=data["name"],
            terms=data["terms"],
            professions=data["professions"],
            questions=questions,
            active=data["active"],
            name_en=data["name_en"],
            terms_en=data["terms_en"],
        )

    initial = {
        "name": service.name,
        "terms": service.terms,
        "name_en": service.name_en,
        "terms_en": service.terms_en,
        "professions": service.professions,
        "active": service.active,
    }
    return _definition_page(
        request,
        title=service.name,
        caption=unit.name,
        initial=initial,
        questions=service.questions,
        save=save,
        back=reverse("cases_staff:services", kwargs={"unit_id": unit.id}),
        show_active=True,
    )


@staff_required
@require_GET
def region_forms(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=str(region_id))
    saved = {form.kind: form for form in region.service_forms.all()}
    kinds = [(value, label, saved.get(value)) for value, label in ServiceKind.choices]
    return render(request, "cases/region_forms.html", {"region": region, "kinds": kinds})


@staff_required
@require_http_methods(["GET", "POST"])
def region_form_edit(request: StaffRequest, region_id: uuid.UUID, kind: str) -> HttpResponse:
    me = request.staff
    region = selectors.region_for_admin(staff=me, region_id=str(region_id))
    if kind not in ServiceKind.values:
        raise Http404
    current = region.service_forms.filter(kind=kind).first()

    def save(data: dict[str, Any], questions: list[dict[str, Any]]) -> Any:
        return services.region_form_save(
            region=region,
            kind=kind,
            by=me,
            name=data["name"],
            terms=data["terms"],
            professions=data["professions"],
            questions=questions,
            name_en=data["name_en"],
            terms_en=data["terms_en"],
        )

    initial = {
        "name": current.name if current else SWEDISH_NAMES[ServiceKind(kind)],
        "terms": current.terms if current else DEFAULT_TERMS,
        "name_en": current.name_en if current else "",
        "terms_en": current.terms_en if current else "",
        "professions": current.professions if current else [],
    }
    questions = current.questions if current else DEFAULT_QUESTIONS[ServiceKind(kind)]
    return _definition_page(
        request,
        title=initial["name"],
        caption=region.name,
        initial=initial,
        questions=questions,
        save=save,
        back=reverse("cases_staff:region_forms", kwargs={"region_id": region.id}),
        show_active=False,
    )
