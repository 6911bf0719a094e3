"""An extract of the record to save or print: the chosen sections, in a period, as PDF or HTML.

Only what is published to the person (the same ``publishing`` rules as the pages), and only after
the view has opened the record once per section, so each exported section is in the log. The
document needs nothing from the network: its stylesheet is read from disk and every other URL is
refused while the PDF is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Patient
from vardkontakt.records import publishing, results
from vardkontakt.records.models import (
    Alert,
    CareContact,
    Diagnosis,
    LabResult,
    Medicine,
    Prescription,
    Referral,
    Vaccination,
)
from vardkontakt.records.sections import prescription_rows, section_extras

# The sections of issue 21: their table and the own date a period is judged by.
DATED: dict[str, tuple[type[Any], str]] = {
    "prescriptions": (Prescription, "prescribed_on"),
    "alerts": (Alert, "noted_on"),
    "vaccinations": (Vaccination, "given_on"),
    "referrals": (Referral, "sent_on"),
}

SECTIONS: dict[str, Promise] = {
    "notes": _("Notes"),
    "diagnoses": _("Diagnoses"),
    "contacts": _("Care contacts"),
    "results": _("Test results"),
    "medicines": _("Medicines"),
    "prescriptions": _("Prescriptions"),
    "alerts": _("Alerts"),
    "vaccinations": _("Vaccinations"),
    "referrals": _("My referrals"),
}
# Rows per section in one extract: a lifetime of results would make a PDF nobody can open on a
# phone (and take minutes to lay out). The document says when a section was cut.
MAX_ROWS = 500
STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "vardkontakt" / "css" / "record-extract.css"


class ExportForm(forms.Form):
    sections = forms.MultipleChoiceField(
        label=_("What to include"),
        choices=list(SECTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one part of the record.")},
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for everything."),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for everything."),
    )
    output = forms.ChoiceField(
        label=_("How do you want it?"),
        choices=[("pdf", _("A PDF file to save")), ("html", _("A page to print"))],
        widget=forms.RadioSelect,
        initial="pdf",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date must be the same as the start date or later."))
        return data


@dataclass(frozen=True)
class Part:
    name: str
    title: str
    items: list[Any]
    cut: bool  # more rows than MAX_ROWS matched; the oldest are left out


def _period(found: QuerySet[Any], field: str, start: dt.date | None, end: dt.date | None) -> QuerySet[Any]:
    if start:
        found = found.filter(**{f"{field}__gte": start})
    if end:
        found = found.filter(**{f"{field}__lte": end})
    return found


def _items(name: str, subject: Patient, start: dt.date | None, end: dt.date | None) -> QuerySet[Any]:
    if name == "notes":
        return _period(publishing.published_notes(subject).notes, "written_on", start, end)
    if name == "diagnoses":
        return _period(publishing.published_items(Diagnosis, subject)[0], "recorded_on", start, end)
    if name == "contacts":
        found = publishing.published_items(CareContact, subject)[0]
        # A contact belongs to the period when any of its days does.
        if start:
            found = found.filter(Q(ended_on__gte=start) | Q(ended_on__isnull=True, started_on__gte=start))
        return found.filter(started_on__lte=end) if end else found
    if name == "results":
        found = publishing.published_items(LabResult, subject)[0]
        # Days of the Swedish calendar: a sample taken at 00:30 on the 1st belongs to the 1st.
        if start:
            found = found.filter(taken_at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time.min)))
        if end:
            found = found.filter(
                taken_at__lt=timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
            )
        return found
    if name == "medicines":
        return _period(publishing.published_items(Medicine, subject)[0], "dispensed_on", start, end)
    if name in DATED:
        model, field = DATED[name]
        found = _period(publishing.published_items(model, subject)[0], field, start, end)
        if name == "prescriptions":
            return found.order_by("-prescribed_on", "name")
        return section_extras(name, subject, found)[0]
    raise ValueError(name)


def hidden_by_choice(subject: Patient, sections: list[str]) -> bool:
    """Whether the person's choice to hide the last 14 days keeps anything out of these sections."""
    models: dict[str, type[Model]] = {
        "diagnoses": Diagnosis,
        "contacts": CareContact,
        "results": LabResult,
        "medicines": Medicine,
        **{name: model for name, (model, _field) in DATED.items()},
    }
    return any(
        publishing.published_notes(subject).hidden_by_choice
        if name == "notes"
        else publishing.hidden_by_choice(models[name], subject)
        for name in sections
    )


def parts(subject: Patient, sections: list[str], *, start: dt.date | None, end: dt.date | None) -> list[Part]:
    """The chosen sections in the record's order; the caller has opened the record for each."""
    found = []
    for name, title in SECTIONS.items():
        if name not in sections:
            continue
        found_items = _items(name, subject, start, end)
        rows: list[Any]
        if name == "results":
            # As on the page: a report or panel with its results inside it (they count as its rows).
            rows = list(results.top_level(found_items)[: MAX_ROWS + 1])
            results.attach_members(found_items, rows)
            results.prepare(rows)
        else:
            rows = list(found_items[: MAX_ROWS + 1])
        if name == "prescriptions":
            rows = prescription_rows(subject, rows, timezone.localdate())
        found.append(Part(name=name, title=str(title), items=rows[:MAX_ROWS], cut=len(rows) > MAX_ROWS))
    return found


def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def filename(now: dt.datetime, extension: str, what: str = "utdrag") -> str:
    """Neutral: no name, no identity number, nothing about the content beyond "an extract"."""
    return f"{what}-{timezone.localtime(now):%Y-%m-%d}.{extension}"


def pdf(html: str) -> bytes:
    """The document as PDF, made without any network access."""
    # Imported here: WeasyPrint loads Pango and fonts, which no other page needs.
    import weasyprint
    from weasyprint.urls import URLFetcher

    no_fetching = URLFetcher(allowed_protocols=())  # every URL refused: nothing leaves the machine
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=no_fetching)
    # Tagged, as PDF/UA-1 (issue 16 item 27): headings, tables and reading order reach a screen reader.
    # WeasyPrint 70 writes the structure tree, the document's language and title and the PDF/UA
    # identifier; what it cannot vouch for (alternative texts we never write: the extract has no
    # images) is the rest of the standard.
    return document.write_pdf(
        stylesheets=[weasyprint.CSS(string=stylesheet(), url_fetcher=no_fetching)],
        pdf_variant="pdf/ua-1",
        pdf_tags=True,
    )
