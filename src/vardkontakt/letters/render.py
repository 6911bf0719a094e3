"""Making a letter: its words (the unit's template, else the region's, else the defaults written
here), its facts (from the booking), the page in Swedish and English, and the accessible PDF.

The PDF needs nothing from the network: the stylesheet is read from disk and every other URL is
refused while it is made (as the record extract does). It is tagged as PDF/UA-1 as far as
WeasyPrint allows (structure tree, language, title); the letter has no images.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format

from vardkontakt.booking.external_models import ExternalAppointment
from vardkontakt.booking.models import Booking, VisitType
from vardkontakt.booking.schedule import settings_of
from vardkontakt.booking.selectors import fee_shown
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fees.models import FeeKind
from vardkontakt.fees.selectors import Quote, fee_quote
from vardkontakt.identity.models import Patient, Profession, Staff
from vardkontakt.letters.models import LetterKind, LetterTemplate
from vardkontakt.organisation.models import CareUnit

STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "vardkontakt" / "css" / "letter.css"


@dataclass(frozen=True)
class Words:
    """What the unit writes itself; empty parts are left out of the letter (the greeting falls back
    to the letter's own words)."""

    greeting: str = ""
    preparation: str = ""
    directions: str = ""
    closing: str = ""


def words_for(unit: CareUnit, language: str) -> Words:
    """The unit's template in ``language``, else its region's, else none of its own words."""
    templates = LetterTemplate.objects.filter(
        Q(unit=unit) | Q(region_id=unit.administration.region_id), language=language
    )
    found = {"unit" if t.unit_id else "region": t for t in templates}
    template = found.get("unit") or found.get("region")
    if template is None:
        return Words()
    return Words(template.greeting, template.preparation, template.directions, template.closing)


@dataclass(frozen=True)
class Facts:
    """The booking as the letter tells it."""

    kind: str
    patient: Patient
    unit: CareUnit
    starts_at: dt.datetime
    place: str
    visit_name_sv: str
    visit_name_en: str
    profession: str  # the practitioner's profession (a value of Profession, or a source's own words)
    fee_kronor: int  # the visit type's own figure, shown when the region's schedule has no such fee
    may_cancel_online: bool
    may_rebook_online: bool
    cancellation_deadline_hours: int
    # A video visit: the letter says so and how to join (from this many minutes before).
    video_join_minutes: int | None = None
    # The fee from the region's schedule for this person on the day of the visit (their age and
    # frikort), as the booking page shows it; None: the schedule has no fee of the visit's kind.
    fee: Quote | None = None
    # False: nothing is known of the fee beyond ``fee`` (an external appointment whose service names
    # no fee kind), so without ``fee`` the letter says nothing of it rather than "free of charge".
    fee_known: bool = True
    # An appointment another booking system published: the resident may ask that system, through
    # the platform, to cancel or move it (the unit answers by changing it).
    may_request_online: bool = False
    # The source's own words on how to prepare for this appointment (patientInstruction).
    instruction: str = ""


def facts_of(booking: Booking, kind: str) -> Facts:
    slot = booking.slot
    visit = slot.visit_type
    online = visit.bookable_online and visit.active
    return Facts(
        kind=kind,
        patient=booking.patient,
        unit=slot.unit,
        starts_at=slot.starts_at,
        place=slot.place,
        visit_name_sv=visit.name,
        visit_name_en=visit.name_en or visit.name,
        profession=slot.practitioner.profession,
        fee_kronor=visit.fee_kronor,
        may_cancel_online=online,
        may_rebook_online=online and visit.rebookable_online,
        cancellation_deadline_hours=visit.cancellation_deadline_hours,
        video_join_minutes=settings_of(slot.unit).video_join_minutes if visit.video else None,
        fee=None
        if kind == LetterKind.CANCELLATION
        else fee_shown(visit_type=visit, patient=booking.patient, day=slot.starts_at.astimezone(STOCKHOLM).date()),
    )


def _fee_kind_of(unit: CareUnit, service_type: str) -> str:
    """The fee kind of an external appointment's service, where it maps to one: a visit type of the
    unit by that name (Swedish or English) that names a fee kind, else a fee kind by its own name
    (in Swedish or English); "" when it maps to none."""
    wanted = service_type.strip().casefold()
    if not wanted:
        return ""
    for visit in VisitType.objects.filter(unit=unit).exclude(fee_kind="").only("name", "name_en", "fee_kind"):
        if wanted in (visit.name.strip().casefold(), visit.name_en.strip().casefold()):
            return visit.fee_kind
    for kind in FeeKind:
        names = {kind.value.casefold()}
        for language in ("sv", "en"):
            with translation.override(language):
                names.add(str(kind.label).casefold())
        if wanted in names:
            return kind.value
    return ""


def _profession_of(row: ExternalAppointment) -> str:
    """The practitioner's profession as the letter names it: the staff member's by HSA-id where the
    platform knows them, else a profession whose name (Swedish or English) the source's role
    display is, else the display as sent; "" when the source sent none."""
    if row.practitioner_hsa_id:
        known = Staff.objects.filter(hsa_id=row.practitioner_hsa_id).values_list("profession", flat=True).first()
        if known:
            return known
    display = row.practitioner_role.strip()
    for profession in Profession:
        for language in ("sv", "en"):
            with translation.override(language):
                if display.casefold() == str(profession.label).casefold():
                    return profession.value
    return display


def facts_of_external(row: ExternalAppointment, kind: str) -> Facts:
    """An appointment another booking system published, as the letter tells it: what the source
    sent (time, unit, service type, practitioner role, instruction) and the unit's details. The
    platform cannot move or cancel it itself: the letter says to call the unit, or to ask in the
    e-services (the request goes back to the source). The fee comes from the region's schedule
    only where the service maps to a fee kind; otherwise the letter claims none."""
    fee: Quote | None = None
    if kind != LetterKind.CANCELLATION and (fee_kind := _fee_kind_of(row.unit, row.service_type)):
        quote = fee_quote(
            patient=row.patient, unit=row.unit, kind=fee_kind, day=row.starts_at.astimezone(STOCKHOLM).date()
        )
        fee = quote if quote.scheduled else None
    return Facts(
        kind=kind,
        patient=row.patient,
        unit=row.unit,
        starts_at=row.starts_at,
        place="",
        visit_name_sv=row.service_type,
        visit_name_en=row.service_type,
        profession=_profession_of(row),
        fee_kronor=0,
        may_cancel_online=False,
        may_rebook_online=False,
        cancellation_deadline_hours=0,
        fee=fee,
        fee_known=False,
        may_request_online=True,
        instruction=row.patient_instruction,
    )


def _context(facts: Facts, words: Words, language: str) -> dict[str, Any]:
    local = facts.starts_at.astimezone(STOCKHOLM)
    return {
        "facts": facts,
        "words": words,
        "language": language,
        "kinds": LetterKind,
        "date": date_format(local.date(), "l j F Y"),
        "time": local.strftime("%H:%M"),
        "visit_name": facts.visit_name_en if language == "en" else facts.visit_name_sv,
        "visit_name_lang": "sv" if language == "en" and facts.visit_name_en == facts.visit_name_sv else "",
        # A role the source named in its own words is shown as sent (in the source's language).
        "profession": str(Profession(facts.profession).label)
        if facts.profession in Profession.values
        else facts.profession,
        "profession_lang": "sv" if language == "en" and facts.profession not in Profession.values else "",
        "site": settings.SITE_URL,
        "service": settings.SERVICE_NAME_RESIDENTS,
    }


def page(facts: Facts, words: Words, language: str) -> str:
    """The letter as a part of a page (Brev shows it in the site's frame)."""
    with translation.override(language):
        return render_to_string("letters/letter_body.html", _context(facts, words, language))


def document(facts: Facts, body: str, language: str = "sv") -> str:
    """The paper letter as one HTML document in ``language`` (the body's): the address in the
    envelope's window, then the letter."""
    with translation.override(language):
        return render_to_string("letters/letter_document.html", {"facts": facts, "body": body, "language": language})


@functools.cache
def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def pdf(html: str) -> bytes:
    """The document as a tagged PDF, made without any network access."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    no_fetching = URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=no_fetching).write_pdf(
        stylesheets=[_css()], pdf_variant="pdf/ua-1", pdf_tags=True
    )


@functools.cache
def _css() -> Any:
    """Parsed once per process: a day's letters share one stylesheet."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    return weasyprint.CSS(string=stylesheet(), url_fetcher=URLFetcher(allowed_protocols=()))


@dataclass(frozen=True)
class Rendered:
    html_sv: str
    html_en: str
    pdf: bytes
    pdf_language: str = "sv"


def letter_render(booking: Booking, kind: str, words: dict[str, Words] | None = None) -> Rendered:
    """``words``: the unit's words by language, when the caller has them (a run renders many
    letters of one unit)."""
    return rendered_of(facts_of(booking, kind), words)


def rendered_of(facts: Facts, words: dict[str, Words] | None = None) -> Rendered:
    """The letter of ``facts`` (a booking's or an external appointment's): both pages and the PDF."""
    words = words or {language: words_for(facts.unit, language) for language in ("sv", "en")}
    html_sv = page(facts, words["sv"], "sv")
    html_en = page(facts, words["en"], "en")
    # Paper and the PDF in the language the person chose for letters (the page follows the site's).
    language = "en" if facts.patient.letter_language == "en" else "sv"
    body = html_en if language == "en" else html_sv
    return Rendered(html_sv, html_en, pdf(document(facts, body, language)), language)
