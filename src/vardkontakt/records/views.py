"""Journalen: the record of the person the resident acts for, through the one door."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from vardkontakt.access.acting import acting_for
from vardkontakt.access.decorators import patient_required
from vardkontakt.access.policy import Relation
from vardkontakt.identity.models import Patient, Profession
from vardkontakt.records import publishing, services
from vardkontakt.records.models import CareContact, Diagnosis, LabResult, Medicine
from vardkontakt.records.selectors import open_record

PAGE_SIZE = 25


class NoteFilter(forms.Form):
    profession = forms.ChoiceField(label=gettext_lazy("Profession"), required=False)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [("", gettext_lazy("All")), *Profession.choices]  # type: ignore[attr-defined]


def _door(request: HttpRequest, section: str) -> tuple[Patient, HttpResponse | None]:
    me: Patient = request.user.patient  # type: ignore[union-attr]
    subject = acting_for(request).subject
    closed = open_record(reader=me, subject=subject, section=section)
    if closed is None:
        return subject, None
    return subject, render(request, "records/closed.html", {"reason": str(closed), "subject": subject}, status=403)


def _common(request: HttpRequest, subject: Patient, **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "acting_self": acting_for(request).relation is Relation.SELF, **extra}


@patient_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    subject, closed = _door(request, "overview")
    if closed:
        return closed
    published = publishing.published_notes(subject)
    return render(
        request,
        "records/overview.html",
        _common(
            request,
            subject,
            withheld=published.withheld,
            unsigned_hidden=published.unsigned_hidden,
            preferences=publishing.preferences_of(subject),
        ),
    )


@patient_required
@require_GET
def notes(request: HttpRequest) -> HttpResponse:
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
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "records/notes.html",
        _common(request, subject, page=page, form=form, query=query.urlencode(), withheld=published.withheld,
                unsigned_hidden=published.unsigned_hidden),
    )  # fmt: skip


SECTIONS: dict[str, tuple[type[Any], Any]] = {
    "diagnoses": (Diagnosis, gettext_lazy("Diagnoses")),
    "contacts": (CareContact, gettext_lazy("Care contacts")),
    "results": (LabResult, gettext_lazy("Test results")),
    "medicines": (Medicine, gettext_lazy("Medicines")),
}


@patient_required
@require_GET
def section(request: HttpRequest, name: str) -> HttpResponse:
    if name not in SECTIONS:
        raise Http404
    subject, closed = _door(request, name)
    if closed:
        return closed
    model, title = SECTIONS[name]
    items, withheld = publishing.published_items(model, subject)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, f"records/{name}.html", _common(request, subject, page=page, title=title, withheld=withheld))


@patient_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """The patient's own choices; a guardian or proxy does not make them for the person."""
    me: Patient = request.user.patient  # type: ignore[union-attr]
    services.record_preferences_save(
        patient=me,
        show_unsigned=request.POST.get("show_unsigned") == "on",
        hide_recent=request.POST.get("hide_recent") == "on",
    )
    messages.success(request, _("Your choices are saved."))
    return redirect("records:overview")
