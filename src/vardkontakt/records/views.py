"""Journalen: the record of the person the resident acts for, through the one door."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.access import policy
from vardkontakt.access.acting import acting_for
from vardkontakt.access.policy import Relation
from vardkontakt.core import charts
from vardkontakt.identity.decorators import PatientRequest, patient_required, recent_login_required
from vardkontakt.identity.models import Patient, Profession
from vardkontakt.records import export, publishing, results, sections, services
from vardkontakt.records.models import Alert, CareContact, Diagnosis, LabResult, Medicine, Referral, Vaccination
from vardkontakt.records.overview import overview_of
from vardkontakt.records.paging import keyset_page
from vardkontakt.records.selectors import open_record, record_closed_to

PAGE_SIZE = 25


class NoteFilter(forms.Form):
    # A filter: every box may stay empty, so none is marked "(optional)".
    hide_optional_marker = True
    profession = forms.ChoiceField(label=gettext_lazy("Profession"), required=False)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [("", gettext_lazy("All")), *Profession.choices]  # type: ignore[attr-defined]


def _door(request: PatientRequest, section: str) -> tuple[Patient, HttpResponse | None]:
    me = request.patient
    subject = acting_for(request).subject
    closed = open_record(reader=me, subject=subject, section=section)
    if closed is None:
        return subject, None
    return subject, _closed(request, subject, closed)


def _closed(request: HttpRequest, subject: Patient, reason: str) -> HttpResponse:
    return render(request, "records/closed.html", {"reason": str(reason), "subject": subject}, status=403)


def _common(request: HttpRequest, subject: Patient, **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "acting_self": acting_for(request).relation is Relation.SELF, **extra}


@patient_required
@require_GET
def overview(request: PatientRequest) -> HttpResponse:
    subject, closed = _door(request, "overview")
    if closed:
        return closed
    found = overview_of(subject)
    return render(
        request,
        "records/overview.html",
        _common(
            request,
            subject,
            overview=found,
            withheld=found.withheld,
            hidden_by_choice=found.hidden_by_choice,
            teenagers=policy.children_past_guardian_access(subject)
            if acting_for(request).relation is Relation.SELF
            else 0,
            guardian_access_until=policy.age_rules(subject).guardian_access_until,
        ),
    )


@patient_required
@require_GET
def notes(request: PatientRequest) -> HttpResponse:
    subject, closed = _door(request, "notes")
    if closed:
        return closed
    published = publishing.published_notes(subject)
    found = published.notes
    form = NoteFilter(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["profession"]:
            found = found.filter(author_profession=data["profession"])
        if data["start"]:
            found = found.filter(written_on__gte=data["start"])
        if data["end"]:
            found = found.filter(written_on__lte=data["end"])
    page = keyset_page(found, request.GET, PAGE_SIZE)
    return render(
        request,
        "records/notes.html",
        _common(
            request,
            subject,
            page=page,
            form=form,
            withheld=published.withheld,
            hidden_by_choice=published.hidden_by_choice,
            unsigned_hidden=published.unsigned_hidden,
        ),
    )


SECTIONS: dict[str, tuple[type[Any], Any]] = {
    "diagnoses": (Diagnosis, gettext_lazy("Diagnoses")),
    "contacts": (CareContact, gettext_lazy("Care contacts")),
    "results": (LabResult, gettext_lazy("Test results")),
    "medicines": (Medicine, gettext_lazy("Medicines")),
    "alerts": (Alert, gettext_lazy("Alerts")),
    "vaccinations": (Vaccination, gettext_lazy("Vaccinations")),
    "referrals": (Referral, gettext_lazy("My referrals")),
}


@patient_required
@require_GET
def section(request: PatientRequest, name: str) -> HttpResponse:
    if name not in SECTIONS:
        raise Http404
    subject, closed = _door(request, name)
    if closed:
        return closed
    model, title = SECTIONS[name]
    items, withheld = publishing.published_items(model, subject)
    hidden = publishing.hidden_by_choice(model, subject)
    items, extra = sections.section_extras(name, subject, items)
    if "medication" in extra:  # the medication list shows the prescriptions too
        withheld = withheld or extra["medication"].withheld
        hidden = hidden or extra["medication"].hidden_by_choice
    if model is LabResult:
        # A report or panel is one row with its results inside it, not its results again on their own.
        page = keyset_page(results.top_level(items), request.GET, PAGE_SIZE)
        results.attach_members(items, page.object_list)
        results.link_charts(items, results.with_members(page.object_list))
        results.prepare(page.object_list)
    else:
        page = keyset_page(items, request.GET, PAGE_SIZE)
    return render(
        request,
        f"records/{name}.html",
        _common(request, subject, page=page, title=title, withheld=withheld, hidden_by_choice=hidden, **extra),
    )


@patient_required
@recent_login_required
@require_GET
def vaccination_certificate(request: PatientRequest) -> HttpResponse:
    """The vaccinations shown in Journalen as a PDF certificate (tagged, as the extract is)."""
    subject, closed = _door(request, "vaccinations.certificate")
    if closed:
        return closed
    items, withheld = publishing.published_items(Vaccination, subject)
    made_at = timezone.now()
    html = render_to_string(
        "records/vaccination_certificate.html",
        _common(
            request,
            subject,
            vaccinations=list(items.order_by("given_on", "vaccine")),
            withheld=withheld,
            hidden_by_choice=publishing.hidden_by_choice(Vaccination, subject),
            made_at=made_at,
            reader=request.patient,
        ),
        request=request,
    )
    response = HttpResponse(export.pdf(html), content_type="application/pdf")
    # Neutral, as the extract's: no name or number in the file name.
    response["Content-Disposition"] = f'attachment; filename="{export.filename(made_at, "pdf", "vaccinationer")}"'
    response["Cache-Control"] = "no-store, private"
    return response


@patient_required
@require_GET
def result_chart(request: PatientRequest) -> HttpResponse:
    """One analysis over time: a chart and its numbers, from what the results page may show."""
    subject, closed = _door(request, "results")
    if closed:
        return closed
    items, withheld = publishing.published_items(LabResult, subject)
    found = results.series(items, analysis=request.GET.get("analysis", ""), unit_of_measure=request.GET.get("unit"))
    if found is None:
        # Unknown, text only, a single value or not published to this reader: the same answer.
        return render(request, "records/result_chart.html", _common(request, subject, series=None), status=404)
    return render(
        request,
        "records/result_chart.html",
        _common(
            request,
            subject,
            series=found,
            chart=charts.lines_chart(results.lines(found))
            if found.components
            else charts.line_chart(results.points(found)),
            chart_title=_("%(analysis)s over time") % {"analysis": found.analysis},
            description=results.describe(found),
            rows=[] if found.components else results.rows(found),
            parts_rows=results.parts_rows(found) if found.components else [],
            withheld=withheld,
        ),
    )


@patient_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def export_record(request: PatientRequest) -> HttpResponse:
    """An extract to save (PDF) or print (HTML), of the sections and period the person chooses."""
    me: Patient = request.patient
    subject = acting_for(request).subject
    closed = record_closed_to(reader=me, subject=subject)
    if closed:
        return _closed(request, subject, closed)
    form = export.ExportForm(
        request.POST if request.method == "POST" else None, initial={"sections": list(export.SECTIONS)}
    )
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "records/export.html", _common(request, subject, form=form), status=status)
    data = form.cleaned_data
    for name in data["sections"]:  # each section read is logged on its own
        closed = open_record(reader=me, subject=subject, section=f"export.{name}")
        if closed:
            return _closed(request, subject, closed)
    made_at = timezone.now()
    context = _common(
        request,
        subject,
        reader=me,
        made_at=made_at,
        start=data["start"],
        end=data["end"],
        parts=export.parts(subject, data["sections"], start=data["start"], end=data["end"]),
        hidden_by_choice=export.hidden_by_choice(subject, data["sections"]),
        print_page=data["output"] == "html",
    )
    html = render_to_string("records/export_document.html", context, request=request)
    if data["output"] == "html":
        response = HttpResponse(html)
    else:
        response = HttpResponse(export.pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{export.filename(made_at, "pdf")}"'
    # A copy of the record: never kept by a browser or a proxy on the way.
    response["Cache-Control"] = "no-store, private"
    return response


@patient_required
@require_http_methods(["GET", "POST"])
def preferences(request: PatientRequest) -> HttpResponse:
    """The person's own choices about their record page. Only for oneself: a guardian or a proxy
    does not make them for the person they act for (the page says so, and saves nothing)."""
    me: Patient = request.patient
    subject = acting_for(request).subject
    if subject.pk != me.pk:
        status = 403 if request.method == "POST" else 200
        return render(
            request, "records/preferences.html", _common(request, subject, for_someone_else=True), status=status
        )
    if request.method == "POST":
        services.record_preferences_save(
            patient=me,
            show_unsigned=request.POST.get("show_unsigned") == "on",
            hide_recent=request.POST.get("hide_recent") == "on",
            notify_new_results=request.POST.get("notify_new_results") == "on",
        )
        messages.success(request, _("Your choices are saved."))
        return redirect("records:preferences")
    return render(
        request,
        "records/preferences.html",
        _common(request, subject, preferences=publishing.preferences_of(me), recent_days=publishing.RECENT_DAYS),
    )
