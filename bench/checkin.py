"""A hospital's morning of check-ins (issue 19 §2): the kiosk and the phone paths, against bare
inserts of the same rows, measured in the same run.

One process, a throwaway SQLite database (WAL) in a temporary folder, DEBUG off: a region with its
fee schedule, one unit, its practitioners and 3 × ``PER_PATH`` residents (200 a path by default; ``VK_BENCH_CHECKINS_PER_PATH``), each with one booking
starting within the next half hour (the check-in window is open for all of them). Then:
- baseline: for each of ``PER_PATH`` bookings, the rows a check-in leaves — the arrival and the
  visit's fee — inserted bare in one transaction (no lock, no rules, no audit);
- phone: ``PER_PATH`` residents, each logged in (Django's test client, a completed login's session),
  check in by phone: POST the check-in, GET the receipt;
- kiosk: ``PER_PATH`` residents at one registered kiosk: identify by personnummer and time, the
  day's bookings, POST the check-in (the receipt page).
Payment is not in this run (issue 19 §3 is another branch). Per path: median and p99 of one
check-in, throughput, and the ratio to the baseline's median and p99. The morning's goal: 2,000
check-ins in 30 minutes is 1.1 a second.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PER_PATH = int(os.environ.get("VK_BENCH_CHECKINS_PER_PATH", "200"))
GOAL_PER_SECOND = 2000 / (30 * 60)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 3),
        "per_second": round(len(ordered) / sum(ordered), 1),
    }


def world() -> dict[str, Any]:
    from django.utils import timezone

    from vardkontakt.booking.models import Booking, BookingChannel, BookingSettings, Slot, VisitType
    from vardkontakt.demo.demo_data import personnummer
    from vardkontakt.fees.models import FeeKind, FeeRules, FeeSchedule
    from vardkontakt.identity.models import Patient, Staff
    from vardkontakt.organisation.models import Administration, CareUnit, Membership, MembershipRole, Region, UnitKind

    region = Region.objects.create(name="Region Bänk")
    FeeRules.objects.create(region=region)
    FeeSchedule.objects.create(
        region=region, kind=FeeKind.DOCTOR, amount=Decimal(200), effective_from=dt.date(2000, 1, 1)
    )
    administration = Administration.objects.create(region=region, name="Bänk förvaltning")
    unit = CareUnit.objects.create(
        administration=administration,
        hsa_id="SE2321000000-B0001",
        name="Sjukhuset Bänk",
        kind=UnitKind.SPECIALIST_CLINIC,
    )
    BookingSettings.objects.create(unit=unit)
    admin = Staff.objects.create(
        hsa_id="SE2321000000-B0002", given_name="Ada", family_name="Admin", profession="doctor"
    )
    Membership.objects.create(staff=admin, unit=unit, role=MembershipRole.UNIT_ADMIN)
    visit = VisitType.objects.create(
        unit=unit, name="Läkarbesök", duration_minutes=15, professions=["doctor"], fee_kind=FeeKind.DOCTOR
    )
    doctors = [
        Staff.objects.create(
            hsa_id=f"SE2321000000-D{n:04d}", given_name="Doktor", family_name=f"{n}", profession="doctor"
        )
        for n in range(40)
    ]
    now = timezone.now().replace(second=0, microsecond=0)
    people = [
        Patient(
            personnummer=personnummer(dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 100 + n // 600),
            given_name="Bänk",
            family_name=f"Person{n}",
        )
        for n in range(3 * PER_PATH)
    ]
    Patient.objects.bulk_create(people, ignore_conflicts=True)
    people = list(Patient.objects.filter(given_name="Bänk").order_by("family_name"))
    bookings = []
    for n, person in enumerate(people):
        # Within the next half hour: every check-in window is open now.
        start = now + dt.timedelta(minutes=1 + n % 29)
        slot = Slot.objects.create(
            unit=unit,
            practitioner=doctors[(n // 29) % len(doctors)],
            visit_type=visit,
            place="Mottagning 3",
            starts_at=start + dt.timedelta(seconds=(n // (29 * len(doctors)))),
            ends_at=start + dt.timedelta(minutes=15),
        )
        bookings.append(
            Booking(slot=slot, patient=person, channel=BookingChannel.PHONE, booked_by_staff=admin, created_at=now)
        )
    Booking.objects.bulk_create(bookings)
    rows = list(Booking.objects.select_related("patient", "slot").order_by("patient__family_name"))
    return {"unit": unit, "admin": admin, "bookings": rows}


def baseline(bookings: list[Any]) -> list[float]:
    from django.db import transaction
    from django.utils import timezone

    from vardkontakt.booking.models import Arrival
    from vardkontakt.fees.models import Fee

    samples = []
    for booking in bookings:
        began = time.perf_counter()
        with transaction.atomic():
            fee = Fee.objects.create(
                patient_id=booking.patient_id,
                unit_id=booking.slot.unit_id,
                kind="doctor",
                date_of_care=timezone.localdate(),
                amount_before=Decimal(200),
                amount_charged=Decimal(200),
                counts=False,
                booking_id=booking.pk,
            )
            Arrival.objects.create(booking=booking, arrived_at=timezone.now(), via="phone", fee_id=fee.pk)
        samples.append(time.perf_counter() - began)
    return samples


def phone(bookings: list[Any]) -> list[float]:
    from django.test import Client
    from django.urls import reverse

    from tests.helpers import login_as  # what a completed OIDC login leaves in the session
    from vardkontakt.identity.models import User

    samples = []
    for booking in bookings:
        client = login_as(Client(), User.objects.get_or_create_for_patient(booking.patient))
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        began = time.perf_counter()
        answer = client.post(url)
        receipt = client.get(url)
        samples.append(time.perf_counter() - began)
        assert answer.status_code == 302 and receipt.status_code == 200, (answer.status_code, receipt.status_code)
    return samples


def kiosk(unit: Any, admin: Any, bookings: list[Any]) -> list[float]:
    from django.test import Client
    from django.urls import reverse

    from vardkontakt.core.calendar import STOCKHOLM
    from vardkontakt.kiosk import services
    from vardkontakt.kiosk.selectors import DEVICE_COOKIE

    made = services.kiosk_device_create(staff=admin, unit=unit, name="Entrén")
    _device, token = services.kiosk_device_register(code=made.code)
    client = Client()
    client.cookies[DEVICE_COOKIE] = token
    start = reverse("kiosk:start", kwargs={"unit_id": unit.pk})
    listed = reverse("kiosk:bookings", kwargs={"unit_id": unit.pk})
    samples = []
    for booking in bookings:
        at = booking.slot.starts_at.astimezone(STOCKHOLM)
        began = time.perf_counter()
        found = client.post(start, {"personnummer": booking.patient.personnummer, "time": f"{at:%H:%M}"})
        page = client.get(listed)
        done = client.post(listed, {"booking": str(booking.pk)})
        samples.append(time.perf_counter() - began)
        assert (found.status_code, page.status_code, done.status_code) == (302, 200, 200), (
            found.status_code,
            page.status_code,
            done.status_code,
        )
    return samples


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        os.environ.update(
            {
                "VK_DEMO": "true",
                "DJANGO_DEBUG": "false",
                "VK_VAR_DIR": var,
                "DJANGO_SETTINGS_MODULE": "vardkontakt.settings",
                "VK_RATE_LIMIT_KIOSK_TRIES_PER_10_MINUTES": "1000000",
            }
        )
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test client's host
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        made = world()
        bookings = made["bookings"]
        bare = baseline(bookings[:PER_PATH])
        by_phone = phone(bookings[PER_PATH : 2 * PER_PATH])
        at_kiosk = kiosk(made["unit"], made["admin"], bookings[2 * PER_PATH :])
        vendor = connection.vendor
    base, ph, ki = summary(bare), summary(by_phone), summary(at_kiosk)
    return {
        "what": "one check-in (the arrival and the visit's fee) by phone and at the kiosk vs bare inserts of those rows",
        "server": f"in-process Django test client, DEBUG off, {vendor} (WAL) in a temporary folder, one client",
        "per_path": PER_PATH,
        "baseline_bare_inserts": base,
        "phone_post_and_receipt": ph,
        "kiosk_identify_list_check_in": ki,
        "ratio_phone_median": round(ph["median_ms"] / base["median_ms"], 1),
        "ratio_phone_p99": round(ph["p99_ms"] / base["p99_ms"], 1),
        "ratio_kiosk_median": round(ki["median_ms"] / base["median_ms"], 1),
        "ratio_kiosk_p99": round(ki["p99_ms"] / base["p99_ms"], 1),
        "goal_per_second": round(GOAL_PER_SECOND, 2),
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
