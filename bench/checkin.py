"""A hospital's morning of check-ins with payment (issue 19 §2 and §3): the kiosk and the phone
paths, each followed by paying the visit's fee by Swish, against bare inserts of the same rows,
measured in the same run.

One process, a throwaway SQLite database (WAL) in a temporary folder, DEBUG off, and the tests' local
Swish server (``tests.payments.servers.SwishServer``, the Swish Commerce API on loopback) as the
platform's Swish. A region with its fee schedule, one unit, its practitioners and 2 × ``COUNT``
residents (``VK_BENCH_CHECKINS``, 2,000 by default), each with one booking starting within the next
half hour, in the order they are served (every check-in window is open when its turn comes). Then:
- baseline: for ``COUNT`` bookings, the rows a paid check-in leaves — the arrival, the visit's fee
  and the paid Swish payment — inserted bare in one transaction (no lock, no rules, no audit, no
  provider);
- phone (``COUNT // 2``): each resident, logged in (Django's test client, a completed login's
  session), checks in by phone: POST the check-in, GET the receipt;
- kiosk (the rest): at one registered kiosk: identify by personnummer and time, the day's bookings,
  POST the check-in (the receipt page);
- then on both paths the fee is paid by Swish from the resident's phone (the kiosk takes no
  payment): the payment page, POST Swish with the phone number (our server PUTs the payment request
  to the local Swish server), the status page (pending), the payer approves in the app, Swish's
  callback (POSTed to our callback view through the test client with the request's
  callbackIdentifier header: nothing listens on the callback URL in this one-process run), and the
  status page (paid).
One sample is one person's check-in plus payment (the look-up of their fee's id between the two is
not timed). Per path: median and p99, throughput, and the ratio to the baseline's median and p99;
also the payment step alone. The morning's goal: 2,000 check-ins in 30 minutes is 1.1 a second.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COUNT = int(os.environ.get("VK_BENCH_CHECKINS", "2000"))
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
    FeeRules.objects.create(region=region, free_from_age=150)  # everyone pays: every fee is a payment
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
            # Born 1950-1999: 50 years × 12 months × 28 days repeat after 2,100; the serial moves on
            # every 600, so every number is different.
            personnummer=personnummer(dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 100 + n // 600),
            given_name="Bänk",
            family_name=f"Person{n:05d}",
        )
        for n in range(2 * COUNT)
    ]
    Patient.objects.bulk_create(people, ignore_conflicts=True)
    people = list(Patient.objects.filter(given_name="Bänk").order_by("family_name"))
    slots = []
    for n in range(len(people)):
        # Within the next half hour, later for those served later: every window is open in its turn.
        # The baseline's half is one second off the paths' half: a practitioner has one slot a start
        # (n and n + COUNT share a doctor whenever COUNT is a multiple of their number).
        start = now + dt.timedelta(seconds=60 + (n % COUNT) * 28 * 60 // COUNT + n // COUNT)
        slots.append(
            Slot(
                unit=unit,
                practitioner=doctors[n % len(doctors)],
                visit_type=visit,
                place="Mottagning 3",
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=15),
            )
        )
    Slot.objects.bulk_create(slots)
    Booking.objects.bulk_create(
        Booking(slot=slot, patient=person, channel=BookingChannel.PHONE, booked_by_staff=admin, created_at=now)
        for slot, person in zip(slots, people, strict=True)
    )
    rows = list(Booking.objects.select_related("patient", "slot").order_by("patient__family_name"))
    return {"unit": unit, "admin": admin, "bookings": rows}


def baseline(bookings: list[Any]) -> list[float]:
    from django.db import transaction
    from django.utils import timezone

    from vardkontakt.booking.models import Arrival
    from vardkontakt.fees.models import Fee
    from vardkontakt.payments.models import Payment

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
            Payment.objects.create(
                fee=fee,
                method="swish",
                status="paid",
                amount=Decimal(200),
                idempotency_key=booking.pk.hex,
                payer_alias="46701234567",
                paid_at=timezone.now(),
            )
        samples.append(time.perf_counter() - began)
    return samples


def resident_client(patient: Any) -> Any:
    from django.test import Client

    from tests.helpers import login_as  # what a completed OIDC login leaves in the session
    from vardkontakt.identity.models import User

    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def fee_of(booking: Any) -> Any:
    from vardkontakt.fees.models import Fee

    return Fee.objects.only("pk").get(booking_id=booking.pk).pk


def pay_by_swish(client: Any, fee_id: Any, provider: Any) -> float:
    """The resident pays the fee by Swish, through to the status page saying paid: seconds taken."""
    import uuid

    from django.urls import reverse

    from vardkontakt.payments import swish

    url = reverse("payments:pay_fee", kwargs={"fee_id": fee_id})
    began = time.perf_counter()
    form = client.get(url)
    sent = client.post(url, {"method": "swish", "phone": "070-123 45 67", "form_key": uuid.uuid4().hex})
    assert form.status_code == 200 and sent.status_code == 302, (form.status_code, sent.status_code)
    pending = client.get(sent["Location"])
    assert b'data-status="pending"' in pending.content, pending.status_code
    payment_id = uuid.UUID(sent["Location"].rstrip("/").rsplit("/", 1)[1])
    instruction = swish.instruction_id(payment_id)
    body = provider.decide(instruction, "PAID")  # the payer approves in the Swish app
    called = client.post(
        reverse("payments:swish_callback"),
        data=json.dumps(body),
        content_type="application/json",
        headers={"callbackIdentifier": provider.identifiers[instruction]},
    )
    paid = client.get(sent["Location"])
    taken = time.perf_counter() - began
    assert called.status_code == 200 and b'data-status="paid"' in paid.content, (called.status_code, paid.status_code)
    return taken


def phone(bookings: list[Any], provider: Any) -> tuple[list[float], list[float]]:
    from django.urls import reverse

    samples, payments = [], []
    for booking in bookings:
        client = resident_client(booking.patient)
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        began = time.perf_counter()
        answer = client.post(url)
        receipt = client.get(url)
        checked_in = time.perf_counter() - began
        assert answer.status_code == 302 and receipt.status_code == 200, (answer.status_code, receipt.status_code)
        paying = pay_by_swish(client, fee_of(booking), provider)
        samples.append(checked_in + paying)
        payments.append(paying)
    return samples, payments


def kiosk(unit: Any, admin: Any, bookings: list[Any], provider: Any) -> tuple[list[float], list[float]]:
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
    samples, payments = [], []
    for booking in bookings:
        at = booking.slot.starts_at.astimezone(STOCKHOLM)
        began = time.perf_counter()
        found = client.post(start, {"personnummer": booking.patient.personnummer, "time": f"{at:%H:%M}"})
        page = client.get(listed)
        done = client.post(listed, {"booking": str(booking.pk)})
        checked_in = time.perf_counter() - began
        assert (found.status_code, page.status_code, done.status_code) == (302, 200, 200), (
            found.status_code,
            page.status_code,
            done.status_code,
        )
        paying = pay_by_swish(resident_client(booking.patient), fee_of(booking), provider)
        samples.append(checked_in + paying)
        payments.append(paying)
    return samples, payments


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

        from tests.payments.servers import PAYEE_ALIAS, swish_server

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test client's host
        provider = swish_server()
        settings.SWISH_API_URL = provider.url
        settings.SWISH_PAYEE_ALIAS = PAYEE_ALIAS
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        made = world()
        bookings = made["bookings"]
        half = COUNT // 2
        began = time.perf_counter()
        bare = baseline(bookings[:COUNT])
        baseline_seconds = time.perf_counter() - began
        began = time.perf_counter()
        by_phone, phone_paying = phone(bookings[COUNT : COUNT + half], provider)
        at_kiosk, kiosk_paying = kiosk(made["unit"], made["admin"], bookings[COUNT + half :], provider)
        morning_seconds = time.perf_counter() - began
        swish_puts = len(provider.puts)
        provider.close()
        vendor = connection.vendor
    base, ph, ki = summary(bare), summary(by_phone), summary(at_kiosk)
    both = summary(by_phone + at_kiosk)
    return {
        "what": (
            "one check-in with payment (the arrival, the visit's fee, paid by Swish against the local Swish "
            "server including its callback) by phone and at the kiosk vs bare inserts of those rows"
        ),
        "server": f"in-process Django test client, DEBUG off, {vendor} (WAL) in a temporary folder, one client",
        "checkins": COUNT,
        "phone_count": len(by_phone),
        "kiosk_count": len(at_kiosk),
        "baseline_bare_inserts": base,
        "phone_check_in_and_pay": ph,
        "kiosk_check_in_and_pay": ki,
        "both_paths": both,
        "payment_step_phone": summary(phone_paying),
        "payment_step_kiosk": summary(kiosk_paying),
        "ratio_phone_median": round(ph["median_ms"] / base["median_ms"], 1),
        "ratio_phone_p99": round(ph["p99_ms"] / base["p99_ms"], 1),
        "ratio_kiosk_median": round(ki["median_ms"] / base["median_ms"], 1),
        "ratio_kiosk_p99": round(ki["p99_ms"] / base["p99_ms"], 1),
        "ratio_both_p99": round(both["p99_ms"] / base["p99_ms"], 1),
        "baseline_wall_seconds": round(baseline_seconds, 1),
        "morning_wall_seconds": round(morning_seconds, 1),
        "morning_per_second": round(COUNT / morning_seconds, 2),
        "goal_per_second": round(GOAL_PER_SECOND, 2),
        "fits_30_minutes": morning_seconds <= 30 * 60,
        "swish_payment_requests": swish_puts,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
