"""The authorization matrix: every URL × every persona × the objects that matter.

Each row names a URL (with the object it is asked about) and the outcome expected for every
persona. The test fails on any outcome other than the one written here (so on any unexpected
2xx), and on any other patient's name or identity number appearing in a response. A second test
fails when the URL configuration has a URL that no row covers: a new URL is not done until it is
in this table.

Later issues add their URLs as rows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import Personas
from tests.helpers import login_as
from vardkontakt.access import policy
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.models import Guardianship, Proxy, RecordSeal
from vardkontakt.fhir.importer import PERSONNUMMER_SYSTEM
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit, Region

pytestmark = pytest.mark.django_db
PERSONNUMMER = PERSONNUMMER_SYSTEM

PATIENT_PERSONAS = [
    "patient_a",
    "patient_b",
    "guardian_9",
    "guardian_14",
    "blocked_guardian",
    "adult_proxy",
    "revoked_proxy",
    "sealed_patient",
]
STAFF_PERSONAS = ["staff_x", "staff_y", "unit_admin", "coordinator", "region_admin", "archivist", "support"]
ALL = [*PATIENT_PERSONAS, *STAFF_PERSONAS, "anonymous"]


def who(personas: Personas, name: str) -> Patient | Staff | None:
    return {
        "patient_a": personas.tolvan,
        "patient_b": personas.other_patient,
        "guardian_9": personas.guardian,  # Anna: Liam (9) and Saga (14)
        "guardian_14": Patient.objects.get(given_name="Erik", family_name="Föräldersson"),
        "blocked_guardian": personas.blocked_guardian,
        "adult_proxy": personas.adult_proxy,
        "revoked_proxy": personas.revoked_proxy,
        "sealed_patient": personas.sealed,
        "staff_x": personas.staff_x,  # member of Vårdcentralen Lindängen (unit X)
        "staff_y": personas.nurse,  # member of Vårdcentralen Kärnan (unit Y)
        "unit_admin": personas.unit_admin,  # administrator of unit X
        "coordinator": personas.coordinator,  # also a member of unit Y
        "region_admin": personas.region_admin,  # also a member of unit X
        "archivist": personas.archivist,
        "support": personas.support,
        "anonymous": None,
    }[name]


@dataclass
class Row:
    """One URL asked about one object, and what every persona must get."""

    name: str  # URL name
    label: str  # which object, in words
    expect: dict[str, int]
    method: str = "get"
    url: Callable[[Personas], str] | None = None
    data: Callable[[Personas, str], dict[str, Any]] = field(default=lambda p, persona: {})
    kwargs: Callable[[Personas], dict[str, Any]] | None = None
    # Whom each persona has chosen to act for in the session (re-judged by the request).
    acts_for: str = ""  # a kind for subject_for: "acted_for", ...
    # What happened before the request (inside its rolled-back transaction), and the texts a page
    # that answers 200 must show and must not show (a refusal page names only the one logged in).
    setup: Callable[[Personas], None] | None = None
    shows: Callable[[Personas], list[str]] = field(default=lambda p: [])
    hides: Callable[[Personas], list[str]] = field(default=lambda p: [])

    def path(self, personas: Personas) -> str:
        if self.url:
            return self.url(personas)
        return reverse(self.name, kwargs=self.kwargs(personas) if self.kwargs else None)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ALL, status)


def patients_door(patients: dict[str, int] | int) -> dict[str, int]:
    """Resident pages: anonymous → the e-ID login, staff → 403."""
    table = dict.fromkeys(PATIENT_PERSONAS, patients) if isinstance(patients, int) else dict(patients)
    return {**table, **dict.fromkeys(STAFF_PERSONAS, 403), "anonymous": 302}


def _own_section(name: str) -> Row:
    """A record section of one's own (or of whom one acts for): through the record's door."""
    return Row(
        "records:section",
        f"own {name}",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403}),
        kwargs=lambda p: {"name": name},
    )


def staff_door(staff: dict[str, int] | int) -> dict[str, int]:
    """Staff pages: anonymous → the SITHS login, residents → 403."""
    table = dict.fromkeys(STAFF_PERSONAS, staff) if isinstance(staff, int) else dict(staff)
    return {**table, **dict.fromkeys(PATIENT_PERSONAS, 403), "anonymous": 302}


def subject_for(personas: Personas, persona: str, kind: str) -> str:
    """The patient an acting-for switch asks about: own, another's, one they act for, a sealed one."""
    me = who(personas, persona)
    if kind == "own":
        return str(me.pk) if isinstance(me, Patient) else str(personas.tolvan.pk)
    if kind == "another":
        return str((personas.other_patient if me != personas.other_patient else personas.tolvan).pk)
    if kind == "sealed":
        return str(personas.sealed.pk)
    acted_for = {
        "guardian_9": personas.child_9,
        "guardian_14": personas.child_14,
        "blocked_guardian": personas.blocked_child,
        "adult_proxy": personas.principal,
        "revoked_proxy": personas.principal,
    }
    return str(acted_for.get(persona, personas.child_9).pk)


def gunnels_proxy(personas: Personas) -> Proxy:
    return Proxy.objects.get(principal=personas.principal, agent=personas.adult_proxy, status="active")


def unit(name: str) -> CareUnit:
    return CareUnit.objects.get(name=name)


def an_extract() -> Any:
    """An HSA extract uploaded to the region, not applied: one new unit of Skånevård Sund."""
    from vardkontakt.regions.models import CatalogueImport

    content = "record,hsa_id,name,kind,administration,given_name,family_name,profession,unit_hsa_id,starts_on,ends_on\n"
    content += "unit,SE2321000255-E7400,Mottagningen Ny,primary_care,Skånevård Sund,,,,,,\n"
    stored, _ = CatalogueImport.objects.get_or_create(
        region=Region.objects.get(), digest="matrix", defaults={"content": content, "file_name": "hsa.csv"}
    )
    return stored


def advice_at_x():
    from vardkontakt.cases.models import Service

    return Service.objects.get(unit__name="Vårdcentralen Lindängen", kind="advice")


def case_of(subject: Patient, sender: Patient):
    from vardkontakt.cases.models import Case

    return Case.objects.get(patient=subject, created_by=sender)


def file_of(subject: Patient):
    from vardkontakt.cases.models import Attachment

    return Attachment.objects.get(case__patient=subject)


def not_found_but(allowed: dict[str, int], default: int = 404) -> dict[str, int]:
    return {**dict.fromkeys(PATIENT_PERSONAS, default), **allowed}


# Staff of any care unit check a frikort and register fees paid elsewhere (every staff persona is a
# member of some unit; staff of none get 403: tests/fees/test_pages.py).
FEE_STAFF = dict.fromkeys(STAFF_PERSONAS, 200)
FRIDA = "f7ee0000-0000-4000-8000-000000000001"  # a resident from elsewhere, none of the matrix's people
FRIDA_NUMBER = "199003039014"


def frida_frikort_code() -> str:
    """A frikort of a resident of another region, valid today: what a unit's reception is shown."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from vardkontakt.fees import ceiling, frikort_code
    from vardkontakt.fees.models import CeilingHolder, Frikort, HighCostPeriod

    frida, _ = Patient.objects.get_or_create(
        id=FRIDA,
        defaults={
            "personnummer": FRIDA_NUMBER,
            "given_name": "Frida",
            "family_name": "Frikortsson",
        },
    )
    today = timezone.localdate()
    holder, _ = CeilingHolder.objects.get_or_create(key=f"person:{FRIDA}")
    start = today - dt.timedelta(days=30)
    period, _ = HighCostPeriod.objects.get_or_create(
        holder=holder,
        start=start,
        defaults={"end": ceiling.period_end(start), "ceiling": Decimal(1400), "used": Decimal(1400)},
    )
    card, _ = Frikort.objects.get_or_create(
        period=period,
        defaults={"valid_from": today - dt.timedelta(days=10), "valid_until": period.end, "issued_at": timezone.now()},
    )
    return frikort_code.code_for(
        frikort_id=card.id, personnummer=frida.personnummer, valid_from=card.valid_from, valid_until=card.valid_until
    )


def registration_of_tolvan(personas: Personas, persona: str) -> dict[str, Any]:
    """The form as sent from unit Y by its staff and from unit X by everyone else (the archivist
    and support are members of neither: refused, 400)."""
    from django.utils import timezone

    at = unit("Vårdcentralen Kärnan" if persona in ("staff_y", "coordinator") else "Vårdcentralen Lindängen")
    return {
        "personnummer": personas.tolvan.personnummer,
        "unit": str(at.pk),
        "date_of_care": timezone.localdate().isoformat(),
        "amount": "250",
        "provider": "Region Uppsala, Akademiska sjukhuset",
        "counts": "on",
        "reason": "Kvitto visat i receptionen",
        "form_key": f"matrix-{persona}",
    }


# --- payments: a fee of Tolvan's and of Liam's at unit X, Tolvan's paid by Swish and invoiced ---------
X_MEMBERS = {**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}


def a_fee_of(subject: Patient) -> Any:
    """A doctor's visit at unit X yesterday, 200 kronor (made inside the request's rolled-back transaction)."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from vardkontakt.fees.models import Fee

    fee, _ = Fee.objects.get_or_create(
        patient=subject,
        kind="doctor",
        booking_id=None,
        provider="",
        defaults={
            "unit": unit("Vårdcentralen Lindängen"),
            "date_of_care": timezone.localdate() - dt.timedelta(days=1),
            "amount_before": Decimal(200),
            "amount_charged": Decimal(200),
            "counts": True,
        },
    )
    return fee


def tolvans_payment(personas: Personas) -> Any:
    from django.utils import timezone

    from vardkontakt.payments.models import Payment

    fee = a_fee_of(personas.tolvan)
    payment, _ = Payment.objects.get_or_create(
        fee=fee,
        defaults={
            "method": "swish",
            "status": "paid",
            "amount": fee.amount_charged,
            "idempotency_key": "matrix",
            "paid_at": timezone.now(),
            "provider_charge": "0123456789ABCDEF0123456789ABCDEF",
        },
    )
    return payment


def tolvans_invoice(personas: Personas) -> Any:
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.payments import ocr
    from vardkontakt.payments.models import Invoice

    fee = a_fee_of(personas.tolvan)
    today = timezone.localdate()
    invoice, _ = Invoice.objects.get_or_create(
        fee=fee,
        defaults={
            "region": Region.objects.get(),
            "ocr": ocr.make("1234567"),
            "bankgiro": "5050-1055",
            "amount": fee.amount_charged,
            "issued_on": today,
            "due_on": today + dt.timedelta(days=30),
        },
    )
    return invoice


def a_fee_change(*, days_ahead: int) -> dict[str, Any]:
    """The region's fees page: a doctor's visit at 250 kronor from a day ``days_ahead`` of today."""
    import datetime as dt

    from django.utils import timezone

    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    return {"action": "change", "kind": "doctor", "amount": "250", "counts": "on", "effective_from": day.isoformat()}


def fee_rules_form(*, ceiling: str) -> dict[str, Any]:
    return {
        "action": "rules",
        "ceiling": ceiling,
        "free_under_age": "20",
        "free_from_age": "85",
        "missed_visit_hours": "24",
        "missed_visit_fee_age_exempt_under": "20",
    }


ROWS: list[Row] = [
    # --- public ---------------------------------------------------------------------------
    Row("home:start", "-", everyone(200)),
    Row("home:home", "-", everyone(302)),
    Row("home:healthz", "-", everyone(503)),  # no worker heartbeat in this test
    # The residents' app: its manifest, service worker and offline page name nobody.
    Row("home:manifest", "-", everyone(200)),
    Row("home:service_worker", "-", everyone(200)),
    Row("home:offline", "-", everyone(200)),
    Row("identity:login", "-", everyone(200)),
    # The provider is unreachable in this test (see the fixture): a clean 503 for everyone.
    Row("identity:login_start", "resident", everyone(503), kwargs=lambda p: {"side": "resident"}),
    Row("identity:oidc_callback", "no state", everyone(403), kwargs=lambda p: {"side": "resident"}),
    Row("identity:logout", "-", everyone(302), method="post"),
    Row("set_language", "-", everyone(302), method="post", data=lambda p, who: {"language": "en", "next": "/"}),
    Row("demo_idp:root", "eid", everyone(200), kwargs=lambda p: {"tenant": "eid"}),
    Row("demo_idp:discovery", "eid", everyone(200), kwargs=lambda p: {"tenant": "eid"}),
    Row("demo_idp:jwks", "eid", everyone(200), kwargs=lambda p: {"tenant": "eid"}),
    Row("demo_idp:authorize", "no request", everyone(400), kwargs=lambda p: {"tenant": "eid"}),
    Row("demo_idp:token", "no client", everyone(401), method="post", kwargs=lambda p: {"tenant": "eid"}),
    # --- residents' pages -------------------------------------------------------------------
    Row("home:patient_home", "own", patients_door(200)),
    Row("home:patient_home", "the one they act for", patients_door(200), acts_for="acted_for"),
    # "Nytt för dig": a resident's own notices only (Tolvan's: her booking is confirmed).
    Row(
        "home:notice_open",
        "Tolvan's notice",
        patients_door(not_found_but({"patient_a": 302})),
        kwargs=lambda p: {"notification_id": tolvans_notice().id},
    ),
    Row(
        "home:notice_dismiss",
        "Tolvan's notice",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"notification_id": tolvans_notice().id},
    ),
    Row("home:notices_dismiss_all", "own", patients_door(302), method="post"),
    Row("identity:patient_settings", "own", patients_door(200)),
    # Push notifications: one's own devices only (the page, subscribing, turning a device off).
    Row("notifications:push", "own", patients_door(200)),
    Row("notifications:push_subscribe", "no subscription sent", patients_door(400), method="post"),
    Row(
        "notifications:push_remove",
        "Tolvan's device",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"subscription_id": tolvans_device(p).id},
    ),
    Row("access:proxies", "own", patients_door(200)),
    Row("access:proxy_invite", "own", patients_door(200)),
    Row("access:seal", "own", patients_door(200)),
    Row("access:access_log", "own", patients_door(200)),
    Row(
        "access:acting_switch",
        "own",
        patients_door(302),
        method="post",
        data=lambda p, who: {"subject": subject_for(p, who, "own")},
    ),
    Row(
        "access:acting_switch",
        "another patient's",
        patients_door(404),
        method="post",
        data=lambda p, who: {"subject": subject_for(p, who, "another")},
    ),
    Row(
        "access:acting_switch",
        "one they act for",
        patients_door(not_found_but({"guardian_9": 302, "adult_proxy": 302})),
        method="post",
        data=lambda p, who: {"subject": subject_for(p, who, "acted_for")},
    ),
    Row(
        "access:acting_switch",
        "a sealed one",
        patients_door(not_found_but({"sealed_patient": 302})),
        method="post",
        data=lambda p, who: {"subject": subject_for(p, who, "sealed")},
    ),
    Row(
        "access:proxy_revoke",
        "Gunnel's proxy",
        patients_door(not_found_but({"adult_proxy": 302})),
        method="post",
        kwargs=lambda p: {"proxy_id": gunnels_proxy(p).id},
    ),
    Row(
        "access:proxy_respond",
        "Gunnel's proxy",
        patients_door(not_found_but({"adult_proxy": 302})),
        method="post",
        kwargs=lambda p: {"proxy_id": gunnels_proxy(p).id, "answer": "accept"},
    ),
    # --- cases: the residents' side -------------------------------------------------------------
    Row("cases:mine", "own", patients_door(200)),
    Row("cases:mine", "the one they act for", patients_door(200), acts_for="acted_for"),
    Row("cases:choose_unit", "own", patients_door(200)),
    Row(
        "cases:choose_service",
        "unit X",
        patients_door(200),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "cases:choose_service",
        "a unit offering nothing",
        patients_door(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    # Inner secrecy (PDL 4 kap.): the unit's review shows what happened in the unit (its staff's
    # reading, imports of its record data), never another unit's reading of its patients, nor the
    # residents' own actions (their proxies, their reading for someone they act for).
    Row(
        "access_staff:unit_log",
        "unit X, after activity in X, in another unit and residents' own",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        setup=lambda p: activity_in_and_outside_unit_x(p),
        shows=lambda p: [p.staff_x.full_name, "Källsystem Lindängens labb (lindangen-lab)"],
        hides=lambda p: not_unit_xs_to_review(p),
    ),
    Row(
        "access_staff:unit_log",
        "unit X filtered by Tolvan, after activity in X, in another unit and her own",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"patient": p.tolvan.personnummer},
        setup=lambda p: activity_in_and_outside_unit_x(p),
        shows=lambda p: [p.staff_x.full_name, "Källsystem Lindängens labb (lindangen-lab)"],
        hides=lambda p: not_unit_xs_to_review(p),
    ),
    Row(
        "access_staff:unit_log",
        "another unit (Y), after activity in X",
        staff_door(
            {
                "staff_x": 404,
                "staff_y": 403,
                "unit_admin": 404,
                "coordinator": 403,
                "region_admin": 404,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
        setup=lambda p: activity_in_and_outside_unit_x(p),
        hides=lambda p: [p.staff_x.full_name, "Källsystem Lindängens labb (lindangen-lab)"],
    ),
    Row(
        "cases:write",
        "unit X's advice",
        patients_door(200),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "service_id": advice_at_x().id},
    ),
    Row(
        "cases:write",
        "unit X's advice, sent",
        patients_door(302),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "service_id": advice_at_x().id},
        data=lambda p, who: {"what": "Ont i halsen.", "idempotency_key": f"matrix-sent-{who}", "step": "send"},
    ),
    Row(
        "cases:write",
        "a service of another unit",
        patients_door(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "service_id": advice_at_x().id},
    ),
    Row(
        "cases:detail",
        "Tolvan's case",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id},
    ),
    Row(
        "cases:detail",
        "Liam's case (sent by his guardian)",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),  # Erik is Liam's guardian too
        kwargs=lambda p: {"case_id": case_of(p.child_9, p.guardian).id},
    ),
    Row(
        "cases:detail",
        "Gunnel's case (her proxy acts)",
        patients_door(not_found_but({"adult_proxy": 200})),
        kwargs=lambda p: {"case_id": case_of(p.principal, p.principal).id},
    ),
    Row(
        "cases:detail",
        "Sofia's case (sealed record)",
        patients_door(not_found_but({"sealed_patient": 200})),
        kwargs=lambda p: {"case_id": case_of(p.sealed, p.sealed).id},
    ),
    Row(
        "cases:answer",
        "Tolvan's case, not waiting",
        patients_door(not_found_but({"patient_a": 400})),
        method="post",
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id},
        data=lambda p, who: {"body": "Hej"},
    ),
    Row(
        "cases:attachment",
        "the file of Tolvan's case",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id, "attachment_id": file_of(p.tolvan).id},
    ),
    Row(
        "cases:withdraw",
        "Tolvan's case",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id},
    ),
    # --- the record: always the record of whom the persona acts for (here: themself) ---------------
    Row("records:overview", "own", patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403})),
    Row("records:notes", "own", patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403})),
    Row(
        "records:section",
        "own results",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403}),
        kwargs=lambda p: {"name": "results"},
    ),
    # The sections of issue 21: each is one read of its section through the same door.
    *(_own_section(name) for name in ("medicines", "alerts", "vaccinations", "referrals")),
    # The certificate: a PDF of the vaccinations shown (the matrix's logins are fresh: step-up passes).
    Row(
        "records:vaccination_certificate",
        "own",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403}),
    ),
    Row(
        "records:section",
        "an unknown section",
        patients_door(404),
        kwargs=lambda p: {"name": "secrets"},
    ),
    Row("records:preferences", "own", patients_door(302), method="post", data=lambda p, who: {"show_unsigned": "on"}),
    Row("records:preferences", "own, the choices", patients_door(200)),
    Row(
        "records:result_chart",
        "an analysis not among their results",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 404), "sealed_patient": 403}),
        url=lambda p: reverse("records:result_chart") + "?analysis=P-Glukos",
    ),
    # The extract: the matrix's logins are fresh, so the step-up lets them through.
    Row(
        "records:export",
        "own, the form",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403}),
    ),
    Row(
        "records:export",
        "own notes, a page to print",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 200), "sealed_patient": 403}),
        method="post",
        data=lambda p, who: {"sections": ["notes"], "output": "html"},
    ),
    Row(
        "records:export",
        "own, nothing chosen",
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 400), "sealed_patient": 403}),
        method="post",
        data=lambda p, who: {"output": "pdf"},
    ),
    # --- fees: the high-cost protection (the person's, or whom they act for), the staff's frikort check
    Row("fees:high_cost", "own", patients_door(200)),
    Row("fees:high_cost", "the one they act for", patients_door(200), acts_for="acted_for"),
    Row("fees:verify", "the form", staff_door(FEE_STAFF)),
    Row(
        "fees:verify",
        "a genuine code of a resident from elsewhere",
        staff_door(FEE_STAFF),
        method="post",
        data=lambda p, who: {"code": frida_frikort_code()},
    ),
    Row(
        "fees:verify",
        "a forged code",
        staff_door(FEE_STAFF),
        method="post",
        data=lambda p, who: {"code": f"FK1.0123.{FRIDA_NUMBER}.20260101.20990101~forged"},
    ),
    Row("fees:register", "the form", staff_door(FEE_STAFF)),
    Row(
        "fees:register",
        "a fee Tolvan paid in another region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 302), "archivist": 400, "support": 400}),
        method="post",
        data=lambda p, who: registration_of_tolvan(p, who),
    ),
    Row(
        "fees:register",
        "no reason given (for a resident from elsewhere: the form shows the number typed)",
        staff_door(400),
        method="post",
        data=lambda p, who: {**registration_of_tolvan(p, who), "personnummer": FRIDA_NUMBER, "reason": ""},
    ),
    # --- payments: the resident's fees (own, or whom they act for), paying one, the staff's side ---------
    Row("payments:list", "own", patients_door(200)),
    Row("payments:list", "the one they act for", patients_door(200), acts_for="acted_for"),
    Row(
        "payments:pay_fee",
        "Tolvan's fee",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"fee_id": a_fee_of(p.tolvan).pk},
    ),
    Row(
        "payments:pay_fee",
        "Liam's fee (his guardian acts)",
        patients_door(not_found_but({"guardian_9": 200})),
        kwargs=lambda p: {"fee_id": a_fee_of(p.child_9).pk},
        acts_for="acted_for",
    ),
    Row(
        "payments:pay_fee",
        "Tolvan's fee, by a way not offered here",
        patients_door(not_found_but({"patient_a": 400})),
        method="post",
        kwargs=lambda p: {"fee_id": a_fee_of(p.tolvan).pk},
        data=lambda p, who: {"method": "card", "form_key": f"matrix-{who}"},
    ),
    Row(
        "payments:status",
        "Tolvan's payment",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"payment_id": tolvans_payment(p).pk},
    ),
    Row(
        "payments:cancel",
        "Tolvan's payment (paid: nothing to stop)",
        patients_door(not_found_but({"patient_a": 200})),
        method="post",
        kwargs=lambda p: {"payment_id": tolvans_payment(p).pk},
    ),
    Row(
        "payments:receipt",
        "Tolvan's paid payment",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"payment_id": tolvans_payment(p).pk},
    ),
    Row(
        "payments:invoice_pdf",
        "Tolvan's invoice",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"invoice_id": tolvans_invoice(p).pk},
    ),
    # The providers' callbacks are public by declaration and authenticated by what only the provider
    # holds (tests/payments): a forged one is not found, an unsigned webhook refused.
    Row(
        "payments:swish_callback",
        "a forged callback",
        everyone(404),
        method="post",
        data=lambda p, who: {"id": "0" * 32, "status": "PAID"},
    ),
    Row("payments:card_webhook", "an unsigned event", everyone(400), method="post"),
    Row(
        "payments_staff:unit_payments",
        "unit X",
        staff_door(X_MEMBERS),
        setup=lambda p: tolvans_payment(p) and None,
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "payments_staff:refund",
        "Tolvan's payment at unit X",
        staff_door(X_MEMBERS),
        kwargs=lambda p: {"payment_id": tolvans_payment(p).pk},
    ),
    Row(
        "payments_staff:refund",
        "Tolvan's payment at unit X, 50 kronor back with a reason",
        staff_door({**X_MEMBERS, "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"payment_id": tolvans_payment(p).pk},
        data=lambda p, who: {"amount": "50", "reason": "Fel avgift", "form_key": f"matrix-{who}"},
    ),
    Row(
        "payments_staff:invoice_export",
        "the region, the day of Tolvan's invoice",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        url=lambda p: reverse(
            "payments_staff:invoice_export",
            kwargs={"region_id": Region.objects.get().pk, "day": tolvans_invoice(p).issued_on.isoformat()},
        ),
    ),
    Row(
        "payments_staff:region_payments",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().pk},
    ),
    Row(
        "payments_staff:region_payments",
        "the region, a bankgiro number set",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().pk},
        data=lambda p, who: {
            "bankgiro": "5050-1055",
            "invoice_after_days": "14",
            "due_days": "30",
            "reminder_after_days": "10",
            "reminder_fee": "60",
        },
    ),
    Row(
        "payments_staff:bank_import",
        "the region, no file",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().pk},
    ),
    # --- the FHIR API: source systems with a bearer token; a person's session opens nothing ------
    Row("fhir:metadata", "the CapabilityStatement", everyone(200)),
    Row(
        "fhir:token",
        "a token without client credentials",
        everyone(401),
        method="post",
        data=lambda p, who: {"grant_type": "client_credentials"},
    ),
    Row("fhir:token", "looked at", everyone(405)),
    Row("fhir:base", "a transaction Bundle", everyone(401), method="post"),
    Row("fhir:type", "search for Tolvan's results", everyone(401), kwargs=lambda p: {"resource_type": "Observation"}),
    Row("fhir:type", "create a Patient", everyone(401), method="post", kwargs=lambda p: {"resource_type": "Patient"}),
    Row(
        "fhir:search",
        "Tolvan by personnummer, in the body",
        everyone(401),
        method="post",
        kwargs=lambda p: {"resource_type": "Patient"},
        data=lambda p, who: {"identifier": f"{PERSONNUMMER}|{p.tolvan.personnummer}"},
    ),
    Row(
        "fhir:instance",
        "Tolvan as a Patient",
        everyone(401),
        kwargs=lambda p: {"resource_type": "Patient", "ident": p.tolvan.pk},
    ),
    Row(
        "fhir:type",
        "Tolvan's appointments by her id",
        everyone(401),
        url=lambda p: reverse("fhir:type", args=["Appointment"]) + f"?patient={p.tolvan.pk}",
    ),
    Row(
        "fhir:type",
        "publish an Appointment",
        everyone(401),
        method="post",
        kwargs=lambda p: {"resource_type": "Appointment"},
    ),
    Row(
        "fhir:instance",
        "Tolvan's appointment from another booking system",
        everyone(401),
        url=lambda p: reverse("fhir:instance", args=["Appointment", an_external_appointment_of(p.tolvan).id]),
    ),
    Row("fhir:appointment_history", "the appointments' change feed", everyone(401)),
    Row(
        "fhir:appointment_book",
        "book a published slot for Tolvan",
        everyone(401),
        method="post",
        data=lambda p, who: {"resourceType": "Parameters"},
    ),
    Row(
        "fhir:appointment_cancel",
        "cancel Tolvan's appointment from another booking system",
        everyone(401),
        method="post",
        url=lambda p: reverse("fhir:appointment_cancel", args=[an_external_appointment_of(p.tolvan).id]),
    ),
    Row(
        "fhir:type",
        "publish a Slot",
        everyone(401),
        method="post",
        kwargs=lambda p: {"resource_type": "Slot"},
    ),
    # --- the appointment book, the resident's side (for themself; acting-for is tested in tests/booking) ---
    Row("booking:mine", "own", patients_door(200)),
    Row("booking:choose_unit", "own", patients_door(200)),
    Row(
        "booking:visit_types",
        "unit X",
        patients_door(200),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking:visit_types",
        "a unit without online booking",
        patients_door(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "booking:slots",
        "unit X, Hälsosamtal",
        patients_door(200),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "visit_type_id": a_free_slot().visit_type_id},
    ),
    Row(
        "booking:book",
        "a free slot at unit X",
        patients_door(200),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": a_free_slot().id},
    ),
    Row(
        "booking:book",
        "a free slot at unit X, booked",
        patients_door(302),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": a_free_slot().id},
        data=lambda p, who: {"submission_key": f"matrix-{who}"},
    ),
    Row(
        "booking:book",
        "Tolvan's slot, taken",
        patients_door(409),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": tolvans_booking().slot_id},
        data=lambda p, who: {"submission_key": f"matrix-{who}"},
    ),
    Row(
        "booking:detail",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:cancel",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:cancel",
        "Tolvan's booking, cancelled",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:rebook",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:rebook",
        "Tolvan's booking, moved",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
        data=lambda p, who: {"slot": str(a_free_slot().id), "submission_key": "m"},
    ),
    Row(
        "booking:ics",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row("booking:calendar_settings", "own", patients_door(200)),
    Row(
        "booking:calendar_settings",
        "Tolvan's link, turned off",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        data=lambda p, who: {"feed": str(feed_create(owner=p.tolvan).feed.pk)},
    ),
    # A new link needs a fresh e-ID login (the matrix's logins are fresh): the choice, then the link.
    Row("booking:calendar_new", "own", patients_door(200)),
    Row(
        "booking:calendar_new",
        "own, a minimal link",
        patients_door(200),
        method="post",
        data=lambda p, who: {"content": "minimal"},
    ),
    Row("booking:calendar_feed", "a made-up link", everyone(404), kwargs=lambda p: {"token": "not-a-real-token"}),
    Row("booking:calendar_feed", "Tolvan's link", everyone(200), url=lambda p: calendar_link(p.tolvan)),
    Row(
        "booking:calendar_feed",
        "Anna's link (her son Liam's bookings)",
        everyone(200),
        url=lambda p: calendar_link(p.guardian),
    ),
    # Acting for someone: the choice kept in the session is judged again by the request, so whoever
    # may not act for that person (or acts for nobody) is shown their own.
    Row("booking:mine", "the one they act for", patients_door(200), acts_for="acted_for"),
    Row(
        "booking:book",
        "a free slot at unit X, booked for the one they act for",
        patients_door(302),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": a_free_slot().id},
        data=lambda p, who: {"submission_key": f"matrix-{who}"},
        acts_for="acted_for",
    ),
    Row(
        "booking:detail",
        "Liam's booking (by his guardian)",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),  # Erik is Liam's guardian too
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
    ),
    Row(
        "booking:detail",
        "Gunnel's booking (by her proxy)",
        patients_door(not_found_but({"adult_proxy": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.principal).id},
    ),
    Row(
        "booking:ics",
        "Liam's booking",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
    ),
    Row(
        "booking:cancel",
        "Liam's booking, cancelled",
        patients_door(not_found_but({"guardian_9": 302, "guardian_14": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
    ),
    Row(
        "booking:rebook",
        "Gunnel's booking, moved",
        patients_door(not_found_but({"adult_proxy": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": booking_of(p.principal).id},
        data=lambda p, who: {"slot": str(a_free_slot().id), "submission_key": "m"},
    ),
    # Check-in by phone: the booking's page (a read), and checking in when its time has come.
    Row(
        "booking:check_in",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:check_in",
        "Tolvan's booking, checked in at its time",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        setup=lambda p: starting_now(tolvans_booking()),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:check_in",
        "Liam's booking (by his guardian)",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
    ),
    Row(
        "booking:check_in",
        "Gunnel's booking, checked in by her proxy at its time",
        patients_door(not_found_but({"adult_proxy": 302})),
        method="post",
        setup=lambda p: starting_now(booking_of(p.principal)),
        kwargs=lambda p: {"booking_id": booking_of(p.principal).id},
    ),
    # --- the check-in kiosk: nothing at all without the device's cookie (no persona carries one) ---
    Row(
        "kiosk:start", "unit X's kiosk", everyone(404), kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id}
    ),
    Row(
        "kiosk:start",
        "unit X's kiosk, Tolvan's number and time",
        everyone(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"personnummer": p.tolvan.personnummer, "time": "10:00"},
    ),
    Row(
        "kiosk:bookings",
        "unit X's kiosk",
        everyone(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "kiosk:bookings",
        "unit X's kiosk, Tolvan's booking checked in",
        everyone(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"booking": str(tolvans_booking().id)},
    ),
    Row(
        "kiosk:done",
        "unit X's kiosk",
        everyone(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "kiosk:bankid_poll",
        "a BankID login begun at a kiosk of unit X",
        everyone(404),
        url=lambda p: a_kiosk_login_poll(p),
    ),
    Row("kiosk:register", "a made-up code", everyone(404), kwargs=lambda p: {"code": "not-a-real-code"}),
    # The registration link is the door to registering (whoever holds it, on the device): it shows
    # the kiosk's name and unit, nobody's data.
    Row("kiosk:register", "a fresh code for unit X", everyone(200), url=lambda p: a_kiosk_code(p)),
    Row("kiosk:bankid_start", "a made-up secret", everyone(404), kwargs=lambda p: {"secret": "not-a-real-secret"}),
    # The unit administrator's kiosks.
    Row(
        "kiosk_staff:devices",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "kiosk_staff:devices",
        "unit X, a kiosk added",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"name": "Entrén", "form_key": f"matrix-{who}"},
    ),
    Row(
        "kiosk_staff:revoke",
        "unit X's kiosk",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        url=lambda p: reverse(
            "kiosk_staff:revoke",
            kwargs={"unit_id": unit("Vårdcentralen Lindängen").id, "device_id": a_kiosk(p).device.id},
        ),
    ),
    # --- letters (Brev): the resident's own, a child's for the guardian, a principal's for the proxy ---
    Row("letters:inbox", "own", patients_door(200)),
    Row("letters:inbox", "the one they act for", patients_door(200), acts_for="acted_for"),
    Row(
        "letters:detail",
        "Tolvan's letter",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"letter_id": letter_of(p.tolvan).id},
    ),
    Row(
        "letters:detail",
        "Liam's letter",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),  # Erik is Liam's guardian too
        kwargs=lambda p: {"letter_id": letter_of(p.child_9).id},
    ),
    Row(
        "letters:detail",
        "Gunnel's letter (her proxy reads it)",
        patients_door(not_found_but({"adult_proxy": 200})),
        kwargs=lambda p: {"letter_id": letter_of(p.principal).id},
    ),
    Row(
        "letters:pdf",
        "Tolvan's letter",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"letter_id": letter_of(p.tolvan).id},
    ),
    # --- video visits: the booked patient (or whoever books for them) and unit X's members ---
    Row(
        "video:room",
        "Tolvan's video visit",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        setup=lambda p: video_visits(),
    ),
    Row(
        "video:room",
        "Liam's video visit (his guardians join with him)",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
        setup=lambda p: video_visits(),
    ),
    Row(
        "video:room",
        "Tolvan's visit, not over video",
        patients_door(not_found_but({})),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
    ),
    Row(
        "video:evaluation",
        "Tolvan's ended video visit",
        patients_door(not_found_but({"patient_a": 200})),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        setup=lambda p: an_ended_video_visit(p.tolvan),
    ),
    Row(
        "video:evaluation",
        "Tolvan's ended video visit, answered",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        data=lambda p, who: {"picture_and_sound": "5", "easy_to_join": "4", "helped": "5", "comment": "Bra"},
        setup=lambda p: an_ended_video_visit(p.tolvan),
    ),
    Row(
        "video:evaluation_thanks",
        "after the answers",
        patients_door(200),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
    ),
    Row("video:drop_in", "the open drop-in queues", patients_door(200), setup=lambda p: a_drop_in_queue()),
    Row(
        "video:drop_in",
        "joining a queue at unit X",
        patients_door(302),
        method="post",
        data=lambda p, who: {"queue": str(a_drop_in_queue().id), "reason": "Feber sedan i går", "form_key": "matrix"},
    ),
    Row(
        "video:caller",
        "Tolvan's place in a queue",
        patients_door(not_found_but({"patient_a": 200})),
        url=lambda p: reverse("video:caller", args=[a_caller(p.tolvan).id]),
    ),
    Row(
        "video:drop_in_room",
        "Tolvan's drop-in meeting",
        patients_door(not_found_but({"patient_a": 200})),
        url=lambda p: reverse("video:drop_in_room", args=[a_caller(p.tolvan, taken_by=p.staff_x).id]),
    ),
    Row("video_staff:queues", "the units' queues", staff_door(200)),
    Row(
        "video_staff:queues",
        "a queue opened at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        data=lambda p, who: {"unit": str(unit("Vårdcentralen Lindängen").id), **a_period(), "name": "Video 8–12"},
    ),
    Row(
        "video_staff:queue",
        "a queue at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        url=lambda p: reverse("video_staff:queue", args=[a_drop_in_queue().id]),
    ),
    Row(
        "video_staff:drop_in_room",
        "Tolvan's drop-in meeting",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        url=lambda p: reverse("video_staff:drop_in_room", args=[a_caller(p.tolvan, taken_by=p.staff_x).id]),
    ),
    Row(
        "video_staff:day", "today, Tolvan's video visit at unit X", staff_door(200), setup=lambda p: video_visit_today()
    ),
    Row(
        "video_staff:room",
        "Tolvan's video visit",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        setup=lambda p: video_visits(),
    ),
    # Interpreters: unit X's members invite and withdraw; the invited person (patient_b here) alone
    # opens the invitation's page, which shows the unit and the time, never the patient.
    Row(
        "video_staff:interpreters",
        "Tolvan's video visit today",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        setup=lambda p: video_visit_today(),
    ),
    Row(
        "video_staff:interpreters",
        "Tolvan's video visit today, an interpreter invited",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"booking_id": booking_of(p.tolvan).id},
        data=lambda p, who: {"personnummer": "19860203-2388", "contact": "tolk@example.org"},
        setup=lambda p: video_visit_today(),
    ),
    Row(
        "video_staff:interpreter_withdraw",
        "patient_b's invitation to interpret at Tolvan's video visit",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        url=lambda p: reverse(
            "video_staff:interpreter_withdraw", args=[booking_of(p.tolvan).id, an_interpreter_invitation(p).id]
        ),
    ),
    Row("video:interpreting", "one's own invitations to interpret today", patients_door(200)),
    Row(
        "video:interpreter_room",
        "patient_b's invitation to interpret at Tolvan's video visit",
        patients_door(not_found_but({"patient_b": 200})),
        url=lambda p: reverse("video:interpreter_room", args=[an_interpreter_invitation(p).id]),
        hides=lambda p: ["Tolvan", "19121212"],
    ),
    Row(
        "letters_staff:texts",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "letters_staff:texts",
        "unit X, the texts saved",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"sv-preparation": "Ta med dina mediciner.", "action": "save"},
    ),
    Row(
        "letters_staff:region_rules",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "letters_staff:region_rules",
        "the region, letters after 25 o'clock",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {"issue_hour": "25", "paper_days_before": "5", "keep_days_without_account": "90"},
    ),
    # Earlier times (issue 17): asking, stopping, taking an offered time, for oneself and for a child.
    Row(
        "booking:earlier_ask",
        "Tolvan's booking",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
        data=lambda p, who: {"same_practitioner": "on"},
    ),
    Row(
        "booking:earlier_ask",
        "Liam's booking (by his guardian)",
        patients_door(not_found_but({"guardian_9": 302, "guardian_14": 302})),
        method="post",
        kwargs=lambda p: {"booking_id": booking_of(p.child_9).id},
    ),
    Row(
        "booking:earlier_withdraw",
        "Tolvan's booking, waiting",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        setup=lambda p: tolvan_waiting(),
        kwargs=lambda p: {"booking_id": tolvans_booking().id},
    ),
    Row(
        "booking:offer_claim",
        "an earlier time offered to Tolvan",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        url=lambda p: reverse("booking:offer_claim", kwargs={"offer_id": an_offer_to_tolvan().id}),
    ),
    Row(
        "booking:offer_claim",
        "an earlier time offered to Liam",
        patients_door(not_found_but({"guardian_9": 302, "guardian_14": 302})),
        method="post",
        url=lambda p: reverse("booking:offer_claim", kwargs={"offer_id": an_offer_to(booking_of(p.child_9)).id}),
    ),
    # --- appointments the region's other booking systems published (issue 17 part 2) -----------------
    Row(
        "booking:external_detail",
        "Tolvan's appointment from another booking system",
        patients_door(not_found_but({"patient_a": 200})),
        url=lambda p: reverse("booking:external_detail", args=[an_external_appointment_of(p.tolvan).id]),
    ),
    Row(
        "booking:external_detail",
        "Liam's appointment from another booking system",
        patients_door(not_found_but({"guardian_9": 200, "guardian_14": 200})),
        url=lambda p: reverse("booking:external_detail", args=[an_external_appointment_of(p.child_9).id]),
    ),
    Row(
        "booking:external_request",
        "Tolvan asks another booking system to cancel",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        url=lambda p: reverse("booking:external_request", args=[an_external_appointment_of(p.tolvan).id]),
        data=lambda p, who: {"kind": "cancel", "form_key": "matrix"},
    ),
    Row(
        "booking:external_request",
        "Liam's guardian asks another booking system for another time",
        patients_door(not_found_but({"guardian_9": 302, "guardian_14": 302})),
        method="post",
        url=lambda p: reverse("booking:external_request", args=[an_external_appointment_of(p.child_9).id]),
        data=lambda p, who: {"kind": "rebook", "form_key": "matrix"},
    ),
    # --- times another booking system published for residents to book here (issue 17 part 2) ---------
    Row(
        "booking:external_slots",
        "the times PASiS published at unit X",
        patients_door(200),
        url=lambda p: reverse(
            "booking:external_slots", args=[unit("Vårdcentralen Lindängen").id, a_published_time().schedule_id]
        ),
    ),
    Row(
        "booking:external_book",
        "a time PASiS published at unit X (held while confirming)",
        patients_door(200),
        url=lambda p: reverse(
            "booking:external_book", args=[unit("Vårdcentralen Lindängen").id, a_published_time().id]
        ),
    ),
    Row(
        "booking:external_book",
        "a time PASiS published at unit X, booked",
        patients_door(302),
        method="post",
        url=lambda p: reverse(
            "booking:external_book", args=[unit("Vårdcentralen Lindängen").id, a_published_time().id]
        ),
    ),
    Row(
        "booking:external_book",
        "a time PASiS published at unit X, booked for the one they act for",
        patients_door(302),
        method="post",
        url=lambda p: reverse(
            "booking:external_book", args=[unit("Vårdcentralen Lindängen").id, a_published_time().id]
        ),
        acts_for="acted_for",
    ),
    Row(
        "booking:external_book",
        "a time PASiS published at unit X, booked by Tolvan",
        # Taken: refused to everyone else; Tolvan's own confirm again is her booking (a double click).
        patients_door({**dict.fromkeys(PATIENT_PERSONAS, 409), "patient_a": 302}),
        method="post",
        url=lambda p: reverse(
            "booking:external_book",
            args=[unit("Vårdcentralen Lindängen").id, a_published_appointment_of(p.tolvan).slot_id],
        ),
    ),
    Row(
        "booking:external_cancel",
        "Tolvan cancels a published time she booked",
        patients_door(not_found_but({"patient_a": 302})),
        method="post",
        url=lambda p: reverse("booking:external_cancel", args=[a_published_appointment_of(p.tolvan).id]),
    ),
    Row(
        "booking:external_cancel",
        "Liam's guardian cancels a published time booked for him",
        patients_door(not_found_but({"guardian_9": 302, "guardian_14": 302})),
        method="post",
        url=lambda p: reverse("booking:external_cancel", args=[a_published_appointment_of(p.child_9).id]),
    ),
    # --- the appointment book, the unit's side: members of unit X use it, its administrator sets it up ---
    Row(
        "booking_staff:book",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:book",
        "unit X, the week of the bookings",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        url=lambda p: (
            reverse("booking_staff:book", kwargs={"unit_id": unit("Vårdcentralen Lindängen").id}) + the_bookings_week()
        ),
    ),
    Row(
        "booking_staff:book",
        "another unit (Y)",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_y": 200, "coordinator": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "booking_staff:slot",
        "Tolvan's slot at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": tolvans_booking().slot_id},
    ),
    Row(
        "booking_staff:slot",
        "unit X's slot asked for at unit Y",
        staff_door(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "slot_id": a_free_slot().id},
    ),
    Row(
        "booking_staff:slot",
        "a free online slot at unit X, booked by phone before its release",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 400, "unit_admin": 400, "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": a_free_slot().id},
        data=lambda p, who: {"personnummer": p.tolvan.personnummer, "submission_key": f"matrix-{who}"},
    ),
    Row(
        "booking_staff:slot",
        "a phone-only time at unit X, Tolvan's number typed",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        method="post",
        url=lambda p: reverse(
            "booking_staff:slot",
            kwargs={"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": a_phone_only_slot(p).id},
        ),
        data=lambda p, who: {"personnummer": p.tolvan.personnummer, "submission_key": f"matrix-{who}"},
    ),
    Row(
        "booking_staff:release",
        "a phone-only time at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"slot": str(a_phone_only_slot(p).id)},
    ),
    Row(
        "booking_staff:release",
        "unit X's time asked for at unit Y",
        staff_door(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
        data=lambda p, who: {"slot": str(a_phone_only_slot(p).id)},
    ),
    Row(
        "booking_staff:overbook",
        "Tolvan's slot, without a reason",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 400, "unit_admin": 400, "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "slot_id": tolvans_booking().slot_id},
        data=lambda p, who: {"personnummer": p.tolvan.personnummer, "reason": "", "submission_key": f"matrix-{who}"},
    ),
    Row(
        "booking_staff:waiting_list",
        "unit X, nobody waiting",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:waiting_list",
        "unit X, Tolvan waiting",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        setup=lambda p: tolvan_waiting(),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:waiting_list",
        "another unit (Y)",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_y": 200, "coordinator": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "booking_staff:cancel",
        "Tolvan's booking",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:cancel",
        "Tolvan's booking, cancelled",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:cancel",
        "Tolvan's booking asked for at unit Y",
        staff_door(404),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "booking_id": tolvans_booking().id},
    ),
    # Arrivals and missed visits: the members of unit X.
    Row(
        "booking_staff:arrivals",
        "unit X, today",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:arrivals",
        "another unit (Y)",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_y": 200, "coordinator": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "booking_staff:missed",
        "Tolvan's booking, an hour past its start",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        setup=lambda p: starting_now(tolvans_booking(), minutes_ago=60),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:missed",
        "Tolvan's booking asked for at unit Y",
        staff_door(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:missed_undo",
        "Tolvan's booking, marked missed",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        setup=lambda p: tolvan_missed(p),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:missed_undo",
        "Tolvan's booking asked for at unit Y",
        staff_door(404),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "booking_id": tolvans_booking().id},
    ),
    Row(
        "booking_staff:setup",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:setup",
        "unit X, the rules saved",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"horizon_weeks": "12", "release_hours": "48", "reminder_hours": "24"},
    ),
    Row(
        "booking_staff:visit_type_new",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:visit_type_new",
        "unit X, 4 minutes long",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 400, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {
            "name": "Kort",
            "duration_minutes": "4",
            "professions": ["nurse", "district_nurse"],
            "cancellation_deadline_hours": "24",
        },
    ),
    Row(
        "booking_staff:visit_type_new",
        "unit X, a 15-minute vaccination",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {
            "name": "Vaccination",
            "duration_minutes": "15",
            "professions": ["nurse"],
            "cancellation_deadline_hours": "24",
        },
    ),
    Row(
        "booking_staff:visit_type_edit",
        "unit X's Hälsosamtal",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "visit_type_id": a_free_slot().visit_type_id},
    ),
    Row(
        "booking_staff:visit_type_edit",
        "unit X's Hälsosamtal, out of use",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "visit_type_id": a_free_slot().visit_type_id},
        data=lambda p, who: {
            "name": "Hälsosamtal",
            "duration_minutes": "30",
            "professions": ["nurse", "district_nurse"],
            "cancellation_deadline_hours": "24",
        },
    ),
    Row(
        "booking_staff:visit_type_edit",
        "unit X's Hälsosamtal asked for at unit Y",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_y": 403, "coordinator": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id, "visit_type_id": a_free_slot().visit_type_id},
    ),
    Row(
        "booking_staff:template_new",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:template_new",
        "unit X, Wednesdays 09-11 with staff X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {
            "practitioner": str(p.staff_x.pk),
            "visit_type": str(a_free_slot().visit_type_id),
            "weekday": "2",
            "start_time": "09:00",
            "end_time": "11:00",
            "place": "Rum 4",
            "channel": "online",
            "held_back": "",
        },
    ),
    Row(
        "booking_staff:template_delete",
        "a block of unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "template_id": a_block(p).id},
    ),
    Row(
        "booking_staff:exception_new",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:exception_new",
        "unit X, staff X away a day",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {
            "practitioner": str(p.staff_x.pk),
            "reason": "training",
            **a_working_day_ahead(),
        },
    ),
    Row(
        "booking_staff:exception_delete",
        "an absence at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "exception_id": an_absence(p).id},
    ),
    Row(
        "booking_staff:roll",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "booking_staff:day_off",
        "unit X, the next public holiday opened",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"day": the_next_day_off(), "action": "open"},
    ),
    Row(
        "booking_staff:day_off",
        "unit X, a working day",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 400, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"day": a_working_day_ahead()["starts_at"][:10], "action": "open"},
    ),
    Row(
        "booking_staff:coverage",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    # --- onboarding a unit: the unit's registration is open to all; the rest is the coordinator's ---
    Row("onboarding:interest", "the form", everyone(200)),
    Row("onboarding:interest", "an empty registration", everyone(400), method="post"),
    Row(
        "onboarding:onboarding_list",
        "the coordinator's administrations",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 200}),
    ),
    Row(
        "onboarding:onboarding",
        "Nyby, with the coordinator's administration",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 200}),
        kwargs=lambda p: {"onboarding_id": an_onboarding(p).id},
    ),
    Row(
        "onboarding:onboarding",
        "Nyby, activate before the meeting",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 400}),
        method="post",
        kwargs=lambda p: {"onboarding_id": an_onboarding(p).id},
        data=lambda p, who: {"action": "activate"},
    ),
    # --- unit administration: the unit's administrators only ---
    Row(
        "onboarding:unit_admin",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "onboarding:unit_admin",
        "unit X, news without a heading",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 400, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"action": "news_publish", "title": "", "body": "x"},
    ),
    Row(
        "onboarding:unit_admin",
        "unit X, news published",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302, "staff_x": 403, "region_admin": 403}),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"action": "news_publish", "title": "Nytt telefonsystem", "body": "Från måndag."},
    ),
    # --- operations: the support page is everyone's; messages are the region administrator's ---
    Row("operations:support", "-", everyone(200)),
    # The footer's pages about the service: everyone's; their texts are the region administrator's.
    Row("operations:accessibility", "-", everyone(200)),
    Row("operations:privacy", "-", everyone(200)),
    Row("operations:about", "-", everyone(200)),
    Row(
        "regions:information",
        "the region, accessibility",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id, "page": "accessibility"},
    ),
    Row(
        "regions:information",
        "the region, about, saved",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id, "page": "about"},
        data=lambda p, who: {"about_sv": "Regionens egen text.", "about_en": "", "who_sv": "Regionen.", "who_en": ""},
    ),
    # --- region administration: the region's administrators only; anyone else 404 ---------------
    Row(
        "regions:overview",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:rules",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:rules",
        "the region, an age past 18",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {"guardian_access_until_age": "19", "own_record_from_age": "18"},
    ),
    # The region's fees: the schedule and its changes from a later day, the ceiling within the law.
    Row(
        "regions:fees",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:fees",
        "the region, a fee from today",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: a_fee_change(days_ahead=0),
    ),
    Row(
        "regions:fees",
        "the region, a fee from tomorrow",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: a_fee_change(days_ahead=1),
    ),
    Row(
        "regions:fees",
        "the region, a ceiling above the law",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: fee_rules_form(ceiling="1500"),
    ),
    Row(
        "regions:fees",
        "the region, the ceiling lowered",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: fee_rules_form(ceiling="1200"),
    ),
    Row(
        "regions:catalogue",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:catalogue",
        "the region, no file",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {},
    ),
    Row(
        "regions:catalogue_import",
        "an uploaded extract",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id, "import_id": an_extract().id},
    ),
    Row(
        "regions:administrations",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:administrations",
        "the region, a new administration",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {"name": "Ny förvaltning"},
    ),
    Row(
        "regions:units",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:unit_create",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:unit_create",
        "the region, a unit without a name",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {"hsa_id": "SE2321000255-E7002"},
    ),
    Row(
        "regions:staff_list",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:staff_add",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "regions:staff_add",
        "the region, without a unit or a role",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 400}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: {
            "hsa_id": "SE2321000255-P7300",
            "given_name": "A",
            "family_name": "B",
            "profession": "nurse",
        },
    ),
    Row(
        "regions:staff",
        "staff X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id, "staff_id": p.staff_x.id},
    ),
    Row(
        "regions:staff",
        "staff X, support granted",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id, "staff_id": p.staff_x.id},
        data=lambda p, who: {"action": "role", "role-role": "support"},
    ),
    Row(
        "regions:unit_edit",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "operations_staff:messages",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "operations_staff:message_create",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "operations_staff:message_create",
        "the region, published",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"region_id": Region.objects.get().id},
        data=lambda p, who: an_operational_message_form(),
    ),
    Row(
        "operations_staff:message_edit",
        "a current message of the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"message_id": a_current_message(p).id},
    ),
    Row(
        "operations_staff:message_end",
        "a current message of the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"message_id": a_current_message(p).id},
    ),
    # --- the support role's lookup: account, logins, notices, proxies; never medical content
    # (tests/operations/test_support_never_medical.py proves what the 200 leaves out) ---
    Row(
        "operations_staff:support_lookup",
        "the form",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "support": 200}),
    ),
    Row(
        "operations_staff:support_lookup",
        "Tolvan",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "support": 200}),
        method="post",
        data=lambda p, who: {"personnummer": p.tolvan.personnummer},
    ),
    # --- statistics: a unit's for its administrators; the regional view for coordinators and region
    # administrators; response times public (and linked from nowhere) ---
    Row(
        "usage_statistics:unit",
        "unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "usage_statistics:unit",
        "unit X, the last day before the first",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 400, "staff_x": 403, "region_admin": 403}),
        url=lambda p: (
            reverse("usage_statistics:unit", kwargs={"unit_id": unit("Vårdcentralen Lindängen").id})
            + "?from=2026-12-31&to=2026-12-01"
        ),
    ),
    Row(
        "usage_statistics:unit",
        "another unit (Y)",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_y": 403, "coordinator": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "usage_statistics:unit_csv",
        "unit X, cases per case type",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 200, "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "table": "case-types"},
    ),
    Row(
        "usage_statistics:unit_csv",
        "unit X, a table that does not exist",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 403, "region_admin": 403}),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "table": "patients"},
    ),
    Row(
        "usage_statistics:regional",
        "the coordinator's administration, the region administrator's region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 200, "region_admin": 200}),
    ),
    Row(
        "usage_statistics:regional",
        "a malformed date",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 400, "region_admin": 400}),
        url=lambda p: reverse("usage_statistics:regional") + "?from=2026-02-30&to=2026-03-31",
    ),
    Row(
        "usage_statistics:regional_csv",
        "per unit",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "coordinator": 200, "region_admin": 200}),
        kwargs=lambda p: {"table": "units"},
    ),
    Row("usage_statistics:public", "-", everyone(200)),
    # --- staff pages ----------------------------------------------------------------------
    Row("home:staff_home", "own", staff_door(200)),
    Row("identity:staff_settings", "own", staff_door(200)),
    Row(
        "access_staff:unit_log",
        "unit X",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "access_staff:unit_log",
        "another unit (Y)",
        staff_door(
            {
                "staff_x": 404,
                "staff_y": 403,
                "unit_admin": 404,
                "coordinator": 403,
                "region_admin": 404,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row("access_staff:seals", "-", staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "archivist": 200})),
    Row(
        "access_staff:seal_reopen",
        "Sofia's seal, no reason given",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "archivist": 400}),
        method="post",
        kwargs=lambda p: {"seal_id": RecordSeal.objects.get(patient=p.sealed).id},
    ),
    Row(
        "cases_staff:inbox",
        "unit X",
        staff_door(
            {
                "staff_x": 200,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 200,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "cases_staff:inbox",
        "another unit (Y)",
        staff_door(
            {
                "staff_x": 404,
                "staff_y": 200,
                "unit_admin": 404,
                "coordinator": 200,
                "region_admin": 404,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Kärnan").id},
    ),
    Row(
        "cases_staff:case",
        "Tolvan's case at unit X",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id},
    ),
    Row(
        "cases_staff:attachment",
        "the file of Tolvan's case",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 200, "unit_admin": 200, "region_admin": 200}),
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id, "attachment_id": file_of(p.tolvan).id},
    ),
    Row(
        "cases_staff:case_action",
        "reply to Tolvan's case",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "staff_x": 302, "unit_admin": 302, "region_admin": 302}),
        method="post",
        kwargs=lambda p: {"case_id": case_of(p.tolvan, p.tolvan).id, "action": "reply"},
        data=lambda p, who: {"body": "Svar", "version": 1},
    ),
    Row(
        "cases_staff:services",
        "unit X",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
    ),
    Row(
        "cases_staff:service_activate",
        "unit X, advice",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 302,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"kind": "advice"},
    ),
    Row(
        "cases_staff:service_activate",
        "unit X, lifestyle support (not offered yet)",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 302,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        method="post",
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id},
        data=lambda p, who: {"kind": "lifestyle_support"},
    ),
    Row(
        "cases_staff:service_edit",
        "unit X's advice",
        staff_door(
            {
                "staff_x": 403,
                "staff_y": 404,
                "unit_admin": 200,
                "coordinator": 404,
                "region_admin": 403,
                "archivist": 404,
                "support": 404,
            }
        ),
        kwargs=lambda p: {"unit_id": unit("Vårdcentralen Lindängen").id, "service_id": advice_at_x().id},
    ),
    Row(
        "cases_staff:region_forms",
        "the region",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id},
    ),
    Row(
        "cases_staff:region_form_edit",
        "the region, advice",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "region_admin": 200}),
        kwargs=lambda p: {"region_id": Region.objects.get().id, "kind": "advice"},
    ),
    Row("access_staff:guardians", "-", staff_door({**dict.fromkeys(STAFF_PERSONAS, 403), "unit_admin": 200})),
    Row(
        "access_staff:guardian_block",
        "Jonas → Elsa (listed at unit X), unblock",
        staff_door({**dict.fromkeys(STAFF_PERSONAS, 404), "unit_admin": 302}),
        method="post",
        kwargs=lambda p: {
            "guardianship_id": Guardianship.objects.get(guardian=p.blocked_guardian).id,
            "action": "unblock",
        },
    ),
    Row(
        "access_staff:guardian_block",
        "Anna → Liam (another unit's child), block",
        staff_door(404),
        method="post",
        kwargs=lambda p: {
            "guardianship_id": Guardianship.objects.get(guardian=p.guardian, child=p.child_9).id,
            "action": "block",
        },
    ),
]


def visible_patients(personas: Personas, persona: str) -> set[Patient]:
    """Whose name and number this persona may legitimately meet on a page."""
    me = who(personas, persona)
    if isinstance(me, Patient):
        seen = {r.subject for r in policy.representations(me)}
        # Guardians of the same child meet each other's names in the child's cases.
        seen |= set(Patient.objects.filter(guardianships__child__in=seen, guardianships__ended_at__isnull=True))
        # A guardian is told, by name, which of their children they can no longer act for (issue 16 §13).
        seen |= {grown.child for grown in policy.children_grown_past_guardian_access(me)}
        for proxy in [
            *me.proxies_given.filter(status__in=["invited", "active"]),
            *me.proxies_held.filter(status__in=["invited", "active"]),
        ]:
            seen |= {proxy.principal, proxy.agent}
        return seen
    if isinstance(me, Staff):
        # A unit's staff meet its listed patients, and whoever wrote to the unit and for whom.
        seen = set(Patient.objects.filter(listings__unit__memberships__staff=me))
        seen |= set(Patient.objects.filter(cases__unit__memberships__staff=me))
        seen |= set(Patient.objects.filter(cases_created__unit__memberships__staff=me))
        # The appointment book names who booked a time online and for whom (a guardian, a proxy).
        from vardkontakt.booking.models import Booking

        at_their_units = Booking.objects.filter(slot__unit__memberships__staff=me)
        seen |= set(Patient.objects.filter(pk__in=at_their_units.values("patient")))
        seen |= set(Patient.objects.filter(pk__in=at_their_units.values("booked_by_patient")))
        if policy.is_archivist(me):
            seen |= set(Patient.objects.filter(seals__reopened_at__isnull=True))
        if policy.is_support(me):
            # Support meets whom it looks up by number (the matrix looks up Tolvan), the other
            # parties of that person's proxies and the children they are guardian of.
            looked_up = personas.tolvan
            seen |= {looked_up}
            seen |= {proxy.agent for proxy in looked_up.proxies_given.all()}
            seen |= {proxy.principal for proxy in looked_up.proxies_held.all()}
            seen |= {g.child for g in looked_up.guardianships.filter(ended_at__isnull=True)}
        return seen
    return set()


def leaks(body: str, personas: Personas, persona: str) -> list[str]:
    matrix_people = [
        personas.tolvan,
        personas.other_patient,
        personas.guardian,
        personas.child_9,
        personas.child_14,
        personas.blocked_guardian,
        personas.blocked_child,
        personas.protected_guardian,
        personas.protected_child,
        personas.adult_proxy,
        personas.principal,
        personas.revoked_proxy,
        personas.sealed,
        Patient.objects.get(given_name="Erik", family_name="Föräldersson"),
    ]
    allowed = visible_patients(personas, persona)
    found = []
    for patient in matrix_people:
        if patient in allowed:
            continue
        for marker in (patient.personnummer, patient.personnummer_display, patient.full_name):
            if marker and marker in body:
                found.append(marker)
    return found


def prepare(row: Row, personas: Personas, persona: str) -> Callable[[], HttpResponse]:
    """The persona logged in (acting for whom the row says) and the row's objects made: the
    request, ready to send. Call inside a transaction that is rolled back."""
    client = Client()
    me = who(personas, persona)
    if me is not None:  # afresh: a login made in an earlier, rolled-back request is gone
        me = type(me).objects.get(pk=me.pk)
    if isinstance(me, Patient):
        login_as(client, User.objects.get_or_create_for_patient(me))
        if row.acts_for:
            session = client.session
            session[ACTING_FOR] = subject_for(personas, persona, row.acts_for)
            session.save()
    elif isinstance(me, Staff):
        login_as(client, User.objects.get_or_create_for_staff(me))
    if row.setup is not None:
        row.setup(personas)
    path, data = row.path(personas), row.data(personas, persona)
    return lambda: getattr(client, row.method)(path, data)


def ask(row: Row, personas: Personas, persona: str) -> tuple[int, str]:
    """One request as one persona, rolled back afterwards so every persona meets the same world."""
    with transaction.atomic():
        response = prepare(row, personas, persona)()
        body = response.content.decode(errors="replace") if not response.streaming else ""
        transaction.set_rollback(True)
    return response.status_code, body


@pytest.fixture
def unreachable_provider(settings):
    """Point the relying parties at a closed port, so no request here ever leaves the process."""
    providers = {side: dict(conf) for side, conf in settings.OIDC_PROVIDERS.items()}
    for side, tenant in (("resident", "eid"), ("staff", "siths")):
        providers[side]["issuer"] = f"http://127.0.0.1:9/demo-idp/{tenant}"
    settings.OIDC_PROVIDERS = providers
    settings.OIDC_HTTP_TIMEOUT_SECONDS = 2


@pytest.fixture
def cases(personas: Personas, settings, tmp_path) -> None:
    """Unit X offers advice; Tolvan, Liam (by his guardian), Gunnel and Sofia have one case each
    there, and Tolvan's carries a PDF."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vardkontakt.cases.attachments import attachments_store
    from vardkontakt.cases.models import Service
    from vardkontakt.cases.services import case_create, service_activate

    settings.UPLOAD_ROOT = str(tmp_path / "uploads")
    Service.objects.filter(unit__name="Vårdcentralen Kärnan").update(active=False)  # unit Y offers nothing
    from tests.helpers import minimal_pdf

    attachments_store(
        files=[SimpleUploadedFile("remiss.pdf", minimal_pdf())],
        uploader=personas.tolvan,
        submission_key=f"matrix-{personas.tolvan.pk}",
    )

    unit_x = personas.unit_admin.memberships.get().unit
    service = service_activate(unit=unit_x, kind="advice", by=personas.unit_admin)
    for subject, sender in [
        (personas.tolvan, personas.tolvan),
        (personas.child_9, personas.guardian),
        (personas.principal, personas.principal),
        (personas.sealed, personas.sealed),
    ]:
        case_create(actor=sender, subject=subject, service=service, answers=[], idempotency_key=f"matrix-{subject.pk}")


@pytest.fixture
def appointments(personas: Personas) -> None:
    """Unit X books "Hälsosamtal" online: three free slots next week; Gunnel's proxy has booked her
    the fourth, Anna her son Liam the fifth, and Tolvan herself the sixth."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.models import BookingSettings, Slot, VisitType
    from vardkontakt.booking.services import booking_create_online

    unit_x = unit("Vårdcentralen Lindängen")
    visit = VisitType.objects.create(
        unit=unit_x,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    # At 09:00 on the same weekday next week (Stockholm time): the six times are on one day, so in one
    # week of the book whatever the hour the test runs at (from now + 7 days they crossed midnight,
    # and Sunday evenings a week, on a run late in the evening).
    next_week = timezone.localdate() + dt.timedelta(days=7)
    start = dt.datetime.combine(next_week, dt.time(9), tzinfo=timezone.get_current_timezone())
    for n in range(6):
        at = start + dt.timedelta(minutes=30 * n)
        Slot.objects.create(
            unit=unit_x,
            practitioner=personas.staff_x,
            visit_type=visit,
            place="Rum 4",
            starts_at=at,
            ends_at=at + dt.timedelta(minutes=30),
        )
    # Two coming web bookings of a visit type each (the default is one), so the rows that book once
    # more for Tolvan, Liam and Gunnel pass; the limit itself is tested in tests/booking.
    BookingSettings.objects.create(unit=unit_x, online_bookings_per_visit_type=2)
    *_free, gunnels, liams, tolvans = Slot.objects.order_by("starts_at")
    booking_create_online(slot_id=gunnels.pk, unit=unit_x, subject=personas.principal, actor=personas.adult_proxy)
    booking_create_online(slot_id=liams.pk, unit=unit_x, subject=personas.child_9, actor=personas.guardian)
    booking_create_online(slot_id=tolvans.pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)


def an_onboarding(personas: Personas):
    """A unit that registered its interest with the coordinator's administration."""
    from django.utils import timezone

    from vardkontakt.organisation.models import Onboarding

    onboarding, _ = Onboarding.objects.get_or_create(
        hsa_id="SE2321000255-E9001",
        defaults={
            "administration": personas.coordinator.coordinated_administrations.get(),
            "unit_name": "Vårdcentralen Nyby",
            "kind": "primary_care",
            "contact_name": "Vera",
            "contact_email": "vera@nyby.example",
            "interest_on": timezone.localdate(),
        },
    )
    return onboarding


def tolvans_booking():
    from vardkontakt.booking.models import Booking

    return Booking.objects.get(patient__given_name="Tolvan")


def starting_now(booking, minutes_ago: int = 0) -> None:
    """The booking's time moved to this very minute (check-in is open: on its day, within its
    window), or to ``minutes_ago`` (it may be marked missed)."""
    import datetime as dt

    from django.utils import timezone

    slot = booking.slot
    length = slot.ends_at - slot.starts_at
    slot.starts_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    slot.ends_at = slot.starts_at + length
    slot.save(update_fields=["starts_at", "ends_at"])


def a_kiosk(personas: Personas):
    from vardkontakt.kiosk.services import kiosk_device_create

    return kiosk_device_create(staff=personas.unit_admin, unit=unit("Vårdcentralen Lindängen"), name="Matrix")


def a_kiosk_code(personas: Personas) -> str:
    return reverse("kiosk:register", kwargs={"code": a_kiosk(personas).code})


def a_kiosk_login_poll(personas: Personas) -> str:
    from vardkontakt.kiosk.services import kiosk_device_register, kiosk_login_begin

    device, _token = kiosk_device_register(code=a_kiosk(personas).code)
    login, _secret = kiosk_login_begin(device=device)
    return reverse("kiosk:bankid_poll", kwargs={"unit_id": device.unit_id, "login_id": login.pk})


def tolvan_missed(personas: Personas) -> None:
    """Tolvan's booking an hour past its start, marked missed by staff X just now."""
    from vardkontakt.booking.checkin import booking_mark_missed

    starting_now(tolvans_booking(), minutes_ago=60)
    booking_mark_missed(booking_id=tolvans_booking().id, staff=personas.staff_x)


def booking_of(patient: Patient):
    from vardkontakt.booking.models import Booking

    return Booking.objects.get(patient=patient)


def letter_of(patient: Patient):
    """The appointment letter of the fixture's booking of ``patient`` (made here, without the day's
    run: the run and the rendering are tested in tests/letters)."""
    from django.utils import timezone

    from vardkontakt.letters.models import Letter, LetterKind

    booking = booking_of(patient)
    found = Letter.objects.filter(booking=booking).first()
    if found is not None:
        return found
    return Letter.objects.create(
        patient=patient,
        booking=booking,
        unit=booking.slot.unit,
        kind=LetterKind.APPOINTMENT,
        event_uid=booking.event_uid,
        appointment_at=booking.slot.starts_at,
        issued_at=timezone.now(),
        html_sv="<p>Kallelse</p>",
        html_en="<p>Appointment letter</p>",
        pdf=b"%PDF-1.7 matrix",
    )


def video_visits() -> None:
    """Unit X holds its "Hälsosamtal" over video (inside the request's rolled-back transaction)."""
    from vardkontakt.booking.models import VisitType

    VisitType.objects.filter(name="Hälsosamtal").update(video=True)


def video_visit_today() -> None:
    """Tolvan's video visit moved to now: the staff's list of the day shows it."""
    import datetime as dt

    from django.utils import timezone

    video_visits()
    slot = tolvans_booking().slot
    slot.starts_at = timezone.now()
    slot.ends_at = slot.starts_at + dt.timedelta(minutes=30)
    slot.save(update_fields=["starts_at", "ends_at"])


def an_ended_video_visit(patient: Patient) -> None:
    """The patient's video visit has been held and ended, with them in it."""
    from django.utils import timezone

    from vardkontakt.video.models import Participant, Room

    video_visits()
    booking = booking_of(patient)
    now = timezone.now()
    room = Room.objects.create(
        booking=booking, unit=booking.slot.unit, patient=patient, status="ended", created_at=now, ended_at=now
    )
    user = User.objects.get_or_create_for_patient(Patient.objects.get(pk=patient.pk))  # afresh: logged in since
    Participant.objects.create(room=room, user=user, role="patient", display_name=patient.full_name, admitted_at=now)


def an_interpreter_invitation(p: Personas):
    """patient_b invited today, by staff_x, to interpret at Tolvan's video visit (moved to now)."""
    from django.utils import timezone

    from vardkontakt.core.calendar import STOCKHOLM
    from vardkontakt.video.models import Invitation

    video_visit_today()
    booking = booking_of(p.tolvan)
    found = Invitation.objects.filter(booking=booking).first()
    if found is not None:
        return found
    return Invitation.objects.create(
        booking=booking,
        unit=booking.slot.unit,
        interpreter=Patient.objects.get(pk=p.other_patient.pk),
        day=booking.slot.starts_at.astimezone(STOCKHOLM).date(),
        notice_to="tolk@example.org",
        invited_by=Staff.objects.get(pk=p.staff_x.pk),
        invited_at=timezone.now(),
    )


def a_drop_in_queue():
    """An open drop-in video queue at unit X (made inside the request's rolled-back transaction)."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.video.models import DropInQueue

    now = timezone.now()
    found = DropInQueue.objects.filter(name="Video 8–12").first()
    if found is not None:
        return found
    return DropInQueue.objects.create(
        unit=unit("Vårdcentralen Lindängen"),
        name="Video 8–12",
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=3),
    )


def a_caller(patient: Patient, taken_by: Staff | None = None):
    """The patient waits in the queue (or has been taken into a meeting by ``taken_by``)."""
    from django.utils import timezone

    from vardkontakt.video.models import QueueCaller, Room

    now = timezone.now()
    caller = QueueCaller.objects.create(
        queue=a_drop_in_queue(), patient=patient, joined_by=patient, reason="Feber", waiting_since=now
    )
    if taken_by is not None:
        QueueCaller.objects.filter(pk=caller.pk).update(state="taken", taken_by=taken_by, taken_at=now)
        Room.objects.create(caller=caller, unit=caller.queue.unit, patient=patient, created_at=now)
    return caller


def a_period() -> dict[str, str]:
    import datetime as dt

    from django.utils import timezone

    start = timezone.localtime() + dt.timedelta(hours=1)
    return {"opens_at": f"{start:%Y-%m-%dT%H:%M}", "closes_at": f"{start + dt.timedelta(hours=4):%Y-%m-%dT%H:%M}"}


def tolvan_waiting():
    """Tolvan waits for an earlier time than her booking (made inside the request's rolled-back
    transaction); the free times before hers are taken, so nothing is offered to her yet."""
    from django.utils import timezone

    from vardkontakt.booking.models import EarlierTimeRequest

    booking = tolvans_booking()
    return EarlierTimeRequest.objects.create(
        booking=booking,
        patient=booking.patient,
        asked_by=booking.patient,
        unit=booking.slot.unit,
        visit_type=booking.slot.visit_type,
        asked_at=timezone.now(),
    )


def an_offer_to(booking):
    """The first free time offered to the booking's patient, who waits for an earlier one (made
    inside the request's rolled-back transaction)."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.models import EarlierTimeOffer, EarlierTimeRequest

    request = EarlierTimeRequest.objects.create(
        booking=booking,
        patient=booking.patient,
        asked_by=booking.booked_by_patient,
        unit=booking.slot.unit,
        visit_type=booking.slot.visit_type,
        asked_at=timezone.now(),
    )
    now = timezone.now()
    return EarlierTimeOffer.objects.create(
        request=request, slot=a_free_slot(), made_at=now, expires_at=now + dt.timedelta(hours=2)
    )


def an_external_appointment_of(patient: Patient):
    """An appointment a booking system published for the patient at unit X, next week (made
    inside the request's rolled-back transaction, straight to the table: no audit entry)."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.external_models import ExternalAppointment

    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=7)
    return ExternalAppointment.objects.create(
        source_system="pasis",
        source_name="PASiS",
        identifier=f"urn:pasis|{patient.pk}",
        patient=patient,
        unit=unit("Vårdcentralen Lindängen"),
        status="booked",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        service_type="Röntgen",
        created_at=start,
        updated_at=start,
    )


def a_published_time():
    """A time PASiS published at unit X for residents to book, in four days (made inside the
    request's rolled-back transaction, straight to the tables)."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.external_models import ExternalSchedule, ExternalSlot

    now = timezone.now().replace(microsecond=0, second=0)
    schedule, _ = ExternalSchedule.objects.get_or_create(
        source_system="pasis",
        identifier="urn:pasis|S-matrix",
        defaults={
            "source_name": "PASiS",
            "unit": unit("Vårdcentralen Lindängen"),
            "service_type": "Provtagning",
            "created_at": now,
            "updated_at": now,
        },
    )
    start = now + dt.timedelta(days=4)
    slot, _ = ExternalSlot.objects.get_or_create(
        source_system="pasis",
        identifier="urn:pasis|T-matrix",
        defaults={
            "schedule": schedule,
            "status": "free",
            "starts_at": start,
            "ends_at": start + dt.timedelta(minutes=15),
            "bookable_online": True,
            "created_at": now,
            "updated_at": now,
        },
    )
    return slot


def a_published_appointment_of(patient: Patient):
    """The published time, booked here for the patient (no audit entry: straight to the table)."""
    from vardkontakt.booking.external_models import ExternalAppointment

    slot = a_published_time()
    return ExternalAppointment.objects.create(
        source_system="pasis",
        source_name="PASiS",
        identifier=f"urn:vardkontakt|{patient.pk}",
        patient=patient,
        unit=slot.schedule.unit,
        status="booked",
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        service_type="Provtagning",
        slot=slot,
        booked_via="web",
        created_at=slot.created_at,
        updated_at=slot.created_at,
    )


def an_offer_to_tolvan():
    return an_offer_to(tolvans_booking())


def the_bookings_week() -> str:
    """The appointment book's week that holds the fixture's bookings (next week)."""
    from django.utils import timezone

    day = timezone.localtime(tolvans_booking().slot.starts_at).date()
    return f"?date={day.isoformat()}&view=week"


def feed_create(*, owner: Patient):
    from vardkontakt.booking.calendar import feed_create as create

    return create(owner=owner)


def activity_in_and_outside_unit_x(personas: Personas) -> None:
    """Unit X's member reads Tolvan's case and X's lab system imports her result; a nurse at
    another unit reads her case there and another unit's lab imports one there; Tolvan invites a
    proxy and Gunnel's proxy reads Gunnel's record (residents' own actions, no unit's)."""
    from tests.fhir.test_import import bundle, observation, unit_ext
    from vardkontakt.access.audit import Actor, audit
    from vardkontakt.fhir.importer import Sender, import_bundle

    unit_x, elsewhere = unit("Vårdcentralen Lindängen"), personas.nurse_elsewhere.memberships.get().unit
    number = personas.tolvan.personnummer.replace("-", "")
    tolvans = observation("matrix-x", subject={"identifier": {"system": PERSONNUMMER, "value": number}})
    import_bundle(bundle(tolvans), sender=Sender("lindangen-lab", "Lindängens labb", frozenset({unit_x.pk})))
    theirs = observation(
        "matrix-y",
        subject={"identifier": {"system": PERSONNUMMER, "value": number}},
        extension=unit_ext(elsewhere.hsa_id),
    )
    import_bundle(bundle(theirs), sender=Sender("other-lab", "Annat labb", frozenset({elsewhere.pk})))
    audit(actor=Actor.of_staff(personas.staff_x), action="case.read", patient=personas.tolvan, unit=unit_x)
    audit(actor=Actor.of_staff(personas.nurse_elsewhere), action="case.read", patient=personas.tolvan, unit=elsewhere)
    audit(actor=Actor.of_patient(personas.tolvan), action="proxy.invite", patient=personas.tolvan)
    audit(
        actor=Actor.of_patient(personas.adult_proxy),
        action="record.read",
        patient=personas.principal,
        on_behalf_of=personas.principal,
    )


def not_unit_xs_to_review(personas: Personas) -> list[str]:
    """What unit X's log review never shows: the other unit's reader and lab, the residents' own actions."""
    from django.utils import translation

    from vardkontakt.access.actions import action_label

    labels = []
    for language in ("sv", "en"):
        with translation.override(language):
            labels += [action_label("proxy.invite"), action_label("record.read")]
    return [personas.nurse_elsewhere.full_name, "Källsystem Annat labb (other-lab)", *labels]


def calendar_link(owner: Patient) -> str:
    """A fresh calendar link of the owner's (made inside the request's rolled-back transaction)."""
    from vardkontakt.booking.calendar import feed_path

    return feed_path(feed_create(owner=owner).token)


def a_phone_only_slot(personas: Personas):
    """A free phone-only time at unit X tomorrow (made inside the request's rolled-back transaction)."""
    import datetime as dt

    from vardkontakt.booking.models import Channel, Slot

    free = a_free_slot()
    at = free.starts_at - dt.timedelta(days=6)
    return Slot.objects.create(
        unit=free.unit,
        practitioner=personas.staff_x,
        visit_type=free.visit_type,
        place="Rum 4",
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=30),
        channel=Channel.PHONE_ONLY,
    )


def tolvans_notice():
    from vardkontakt.notifications.models import Notification

    return Notification.objects.filter(recipient__given_name="Tolvan", kind="booking_confirmed").get()


def tolvans_device(personas: Personas):
    from django.utils import timezone

    from vardkontakt.notifications.models import PushSubscription

    device, _ = PushSubscription.objects.get_or_create(
        endpoint="https://fcm.googleapis.com/fcm/send/matrix-tolvan",
        defaults={
            "patient": personas.tolvan,
            "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
            "auth": "tBHItJI5svbpez7KI4CCXg",
            "created_at": timezone.now(),
        },
    )
    return device


def a_free_slot():
    from vardkontakt.booking.models import Slot

    return Slot.objects.filter(bookings__isnull=True).order_by("starts_at").first()


def a_block(personas: Personas):
    """A weekly block of unit X (made inside the request's rolled-back transaction)."""
    import datetime as dt

    from vardkontakt.booking.models import ScheduleTemplate

    slot = a_free_slot()
    return ScheduleTemplate.objects.create(
        unit=slot.unit,
        practitioner=personas.staff_x,
        visit_type=slot.visit_type,
        weekday=4,
        start_time=dt.time(13),
        end_time=dt.time(15),
        place="Rum 4",
    )


def a_working_day_ahead() -> dict[str, str]:
    """08:00–17:00 Swedish time on the first working day 60 days from today or later: always in the
    future, and never a day off, whatever the date."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.core.calendar import is_working_day

    day = timezone.localdate() + dt.timedelta(days=60)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return {"starts_at": f"{day}T08:00", "ends_at": f"{day}T17:00"}


def the_next_day_off() -> str:
    """The next public holiday or day off after today, whatever the date."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.core.calendar import is_day_off

    day = timezone.localdate() + dt.timedelta(days=1)
    while not is_day_off(day):
        day += dt.timedelta(days=1)
    return day.isoformat()


def an_absence(personas: Personas):
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.models import ScheduleException

    start = timezone.now() + dt.timedelta(days=30)
    return ScheduleException.objects.create(
        unit=a_free_slot().unit,
        practitioner=personas.staff_x,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
        reason="absence",
    )


def an_operational_message_form() -> dict[str, str]:
    import datetime as dt

    from django.utils import timezone

    start = timezone.localtime() + dt.timedelta(days=1)
    return {
        "kind": "planned_downtime",
        "title": "Underhåll",
        "text": "E-tjänsterna är stängda.",
        "audience": "all",
        "starts_at": f"{start:%Y-%m-%dT%H:%M}",
        "ends_at": f"{start + dt.timedelta(hours=2):%Y-%m-%dT%H:%M}",
        "idempotency_key": "matrix",
    }


def a_current_message(personas: Personas):
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.operations.models import Audience, MessageKind
    from vardkontakt.operations.services import message_create

    now = timezone.now()
    return message_create(
        region=Region.objects.get(),
        by=personas.region_admin,
        kind=MessageKind.DISTURBANCE,
        title="Störning",
        text="BankID krånglar.",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        audience=Audience.ALL,
        idempotency_key="matrix",
    )


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.name}[{row.label}]" for row in ROWS])
def test_the_matrix(row: Row, personas: Personas, unreachable_provider: None, cases: None, appointments: None):
    assert set(row.expect) == set(ALL), f"{row.name}: the row must name every persona"
    wrong = []
    for persona in ALL:
        status, body = ask(row, personas, persona)
        if status != row.expect[persona]:
            wrong.append(f"{persona}: expected {row.expect[persona]}, got {status}")
        leaked = leaks(body, personas, persona)
        if leaked:
            wrong.append(f"{persona}: the response shows {leaked}")
        if status == 200 and (shown := [text for text in row.hides(personas) if text in body]):
            wrong.append(f"{persona}: the response shows {shown}")
        if status == 200 and (missing := [text for text in row.shows(personas) if text not in body]):
            wrong.append(f"{persona}: the response lacks {missing}")
    assert wrong == [], f"{row.name} [{row.label}]\n" + "\n".join(wrong)


def url_names(patterns, namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


def test_every_url_is_in_the_matrix():
    covered = {row.name for row in ROWS}
    missing = sorted(set(url_names(get_resolver().url_patterns)) - covered)
    assert missing == [], "add these URLs to the authorization matrix"


def test_every_url_has_a_name():
    from tests.helpers import url_routes

    unnamed = [route for route, view in url_routes(get_resolver().url_patterns) if not getattr(view, "__name__", "")]
    assert unnamed == []
