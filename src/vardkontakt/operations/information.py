"""The footer's pages about the service: the accessibility statement, personal data and cookies, and
about the service. Each page has parts with a default text in Swedish and English; a region may
word any part as its own (``InformationText``), edited by its administrators (regions app).

The accessibility statement follows the DOS law's required parts (lag 2018:1937, DIGG's rules):
how accessible the service is, the known shortcomings, how to report one, the supervisory authority
and how to reach it, and how and when the statement was made. The authority's part and the date are
not editable: the law fixes the first, and the second is the date of the region's latest review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Staff
from vardkontakt.operations.models import InformationPage, InformationText
from vardkontakt.organisation.models import Region
from vardkontakt.organisation.selectors import region_of_patient

# The supervisory authority's page for reporting a service that fails the DOS law.
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"
TEXT_MAX_LENGTH = 5000


@dataclass(frozen=True)
class Part:
    key: str
    heading: Promise
    default: Promise


PARTS: dict[str, tuple[Part, ...]] = {
    InformationPage.ACCESSIBILITY: (
        Part(
            "status",
            gettext_lazy("How accessible is the service?"),
            gettext_lazy(
                "The region runs the e-services and wants as many people as possible to be able to use them. "
                "This statement describes how the e-services meet the law on accessibility to digital public "
                "services, the shortcomings we know of and how you can tell us about problems.\n\n"
                "The e-services partly meet the law's requirements (the European standard EN 301 549 and WCAG 2.1 "
                "level AA). What does not yet meet them is listed under known shortcomings."
            ),
        ),
        Part(
            "shortcomings",
            gettext_lazy("Known shortcomings"),
            gettext_lazy(
                "Files that you or your care unit attach to a case are shown as they were made; we cannot make "
                "other people's documents accessible.\n\n"
                "The chart of a result over time is a picture; the table under it has the same values.\n\n"
                "The extract of your record is a PDF with structure for screen readers, but not every PDF reader "
                "uses it. Every part of the extract can also be read on its own page."
            ),
        ),
        Part(
            "report",
            gettext_lazy("Tell us about a problem with accessibility"),
            gettext_lazy(
                "If you cannot use a part of the e-services, or need its content in another form, contact support. "
                "Tell us which page and what happened. We answer within two working days."
            ),
        ),
        Part(
            "method",
            gettext_lazy("How we tested the e-services"),
            gettext_lazy(
                "We have assessed the e-services ourselves. Every page is checked automatically with the tool "
                "axe-core in a browser, at a computer's width and at a small phone's width (375 pixels), and "
                "by hand with the keyboard alone."
            ),
        ),
    ),
    InformationPage.PRIVACY: (
        Part(
            "controller",
            gettext_lazy("Who is responsible for your personal data"),
            gettext_lazy(
                "The region is responsible (the data controller) for the personal data handled in the e-services. "
                "Your care unit is responsible for what is written in your record."
            ),
        ),
        Part(
            "what",
            gettext_lazy("What we handle and why"),
            gettext_lazy(
                "We handle your name, personal identity number, the contact details you give and what you write "
                "to your care unit, so that the unit can help you. The legal basis is the Patient Data Act "
                "(patientdatalagen).\n\n"
                "Every time someone reads your information, it is logged. You can see who has read it under "
                "“Who has read my record”."
            ),
        ),
        Part(
            "rights",
            gettext_lazy("Your rights"),
            gettext_lazy(
                "You may ask which personal data we handle about you, ask us to correct data that is wrong and "
                "complain to the Swedish Authority for Privacy Protection (IMY). Contact the region's data "
                "protection officer through support."
            ),
        ),
        Part(
            "cookies",
            gettext_lazy("Cookies"),
            gettext_lazy(
                "The e-services use only the cookies they need to work: they keep you logged in, protect the forms "
                "you send and remember the language you chose. We use no cookies for statistics or marketing, so "
                "we do not ask for your consent."
            ),
        ),
    ),
    InformationPage.ABOUT: (
        Part(
            "about",
            gettext_lazy("What the e-services are"),
            gettext_lazy(
                "With the e-services you can write to your care unit, book and cancel appointments, read your "
                "record and act for your children or for someone who has made you their proxy. You log in with "
                "e-ID.\n\n"
                "The e-services are not for emergencies. If it is urgent, call 112. For advice, call 1177."
            ),
        ),
        Part(
            "who",
            gettext_lazy("Who runs the e-services"),
            gettext_lazy(
                "The region runs the e-services together with its care units. Each unit decides which services it "
                "offers and answers what you send it."
            ),
        ),
    ),
}

TITLES: dict[str, Promise] = {
    InformationPage.ACCESSIBILITY: gettext_lazy("Accessibility statement"),
    InformationPage.PRIVACY: gettext_lazy("How we handle your personal data"),
    InformationPage.ABOUT: gettext_lazy("About the e-services"),
}


@dataclass(frozen=True)
class ShownPart:
    key: str
    heading: str
    text: str
    lang: str  # the language the text is in; "sv" where an English page falls back to the Swedish text


@dataclass(frozen=True)
class Page:
    kind: str
    title: str
    parts: list[ShownPart]
    reviewed_on: dt.date | None  # the region's latest change of the page; None while it shows the defaults


def default_text(part: Part, language: str) -> str:
    with translation.override(language):
        return str(part.default)


@dataclass(frozen=True)
class RegionShown:
    """Whose wording a reader sees, or, where that cannot be known, the regions to choose from."""

    region: Region | None
    choices: list[Region]


def region_for_reader(request: HttpRequest) -> RegionShown:
    """A logged-in resident reads their own region's wording; anyone else the region they asked
    for (``?region=``), or the installation's region when it serves one. An installation serving
    several regions never guesses: the reader chooses (nothing here picks "the first region")."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_patient", False):
        own = region_of_patient(user.patient)
        if own is not None:
            return RegionShown(own, [])
    asked = request.GET.get("region", "")
    if asked:
        try:
            found = Region.objects.filter(pk=asked).first()
        except (ValueError, ValidationError):
            found = None
        if found is None:
            raise Http404
        return RegionShown(found, [])
    regions = list(Region.objects.order_by("name")[:2])
    if len(regions) == 1:
        return RegionShown(regions[0], [])
    return RegionShown(None, list(Region.objects.order_by("name")) if regions else [])


def information_page(*, page: str, region: Region | None) -> Page:
    """The page as the region words it, in the current language. No patient data: nothing is logged."""
    language = "en" if (translation.get_language() or "sv").startswith("en") else "sv"
    stored = {text.part: text for text in InformationText.objects.filter(region=region, page=page)} if region else {}
    shown = []
    for part in PARTS[page]:
        own = stored.get(part.key)
        if own is None:
            text, lang = default_text(part, language), language
        elif language == "en" and own.text_en.strip():
            text, lang = own.text_en, "en"
        else:
            text, lang = own.text_sv, "sv"
        shown.append(ShownPart(part.key, str(part.heading), text, lang))
    reviewed = max((text.updated_at for text in stored.values()), default=None)
    return Page(page, str(TITLES[page]), shown, timezone.localtime(reviewed).date() if reviewed else None)


def information_texts_of(*, region: Region, page: str) -> dict[str, tuple[str, str]]:
    """Each part's Swedish and English text as the region's editor starts from (its own, or the default)."""
    stored = {text.part: text for text in InformationText.objects.filter(region=region, page=page)}
    texts = {}
    for part in PARTS[page]:
        own = stored.get(part.key)
        if own is None:
            texts[part.key] = (default_text(part, "sv"), default_text(part, "en"))
        else:
            texts[part.key] = (own.text_sv, own.text_en)
    return texts


@transaction.atomic
def information_texts_save(*, region: Region, page: str, by: Staff, texts: dict[str, tuple[str, str]]) -> list[str]:
    """Store the parts the administrator changed; returns their keys. Nothing changed writes nothing.
    A Swedish text is required (it is what every reader falls back to); the English one may be empty."""
    if page not in PARTS:
        raise ValidationError(_("There is no such page."), code="page")
    before = information_texts_of(region=region, page=page)
    now = timezone.now()
    changed = []
    for part in PARTS[page]:
        text_sv, text_en = (value.strip().replace("\r\n", "\n") for value in texts[part.key])
        if not text_sv:
            raise ValidationError(_("Write the Swedish text of every part."), code="empty")
        if (text_sv, text_en) == before[part.key]:
            continue
        InformationText.objects.update_or_create(
            region=region,
            page=page,
            part=part.key,
            defaults={"text_sv": text_sv, "text_en": text_en, "updated_by": by, "updated_at": now},
        )
        changed.append(part.key)
    if changed:
        audit(
            actor=Actor.of_staff(by),
            action="information_page.update",
            obj=region,
            detail=f"{page}: {', '.join(changed)}",
        )
    return changed
