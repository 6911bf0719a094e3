"""Journalen's first page: the newest of each section, by the same publishing rules as the sections.

The page is opened through the record's door (``selectors.open_record`` with the section
"overview"), which checks and logs the read; this module only picks what to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vardkontakt.identity.models import Patient
from vardkontakt.records import publishing, results
from vardkontakt.records.models import Alert, Diagnosis, LabResult, Medicine, RecordNote, Referral
from vardkontakt.records.sections import shown_alerts

SHOWN = 3  # of each section: enough to see what is new, the section has the rest


@dataclass(frozen=True)
class Overview:
    notes: list[RecordNote]
    results: list[LabResult]
    medicines: list[Medicine]
    diagnoses: list[Diagnosis]
    alerts: list[Alert]  # first on the page: a critical allergy is what a reader must not miss
    referrals: list[Referral]
    withheld: bool  # the rules keep something back
    hidden_by_choice: bool  # the person's own choice to hide the last 14 days hides something

    @property
    def empty(self) -> bool:
        return not (self.notes or self.results or self.medicines or self.diagnoses or self.alerts or self.referrals)


def overview_of(subject: Patient) -> Overview:
    published = publishing.published_notes(subject)
    withheld = published.withheld
    sections: dict[type[Any], list[Any]] = {}
    hidden = published.hidden_by_choice
    for model in (LabResult, Medicine, Diagnosis, Alert, Referral):
        items, kept_back = publishing.published_items(model, subject)
        if model is Medicine:
            items = items.filter(current=True).order_by("-dispensed_on", "name")
        if model is LabResult:
            # A report or panel counts as one result; its own results are on the results page.
            shown = list(results.top_level(items)[:SHOWN])
            results.prepare(shown)
            sections[model] = shown
            withheld = withheld or kept_back
            hidden = hidden or publishing.hidden_by_choice(model, subject)
            continue
        if model is Alert:
            items = shown_alerts(items)
        sections[model] = list(items[:SHOWN])
        withheld = withheld or kept_back
        hidden = hidden or publishing.hidden_by_choice(model, subject)
    return Overview(
        notes=list(published.notes[:SHOWN]),
        results=sections[LabResult],
        medicines=sections[Medicine],
        diagnoses=sections[Diagnosis],
        alerts=sections[Alert],
        referrals=sections[Referral],
        withheld=withheld,
        hidden_by_choice=hidden,
    )
