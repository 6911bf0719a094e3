"""The letters of one working day: issued by the worker (render, store, notice, print batch).

A large region sends 15.5 million appointment letters a year, 62,000 a working day. In one
throwaway database (PostgreSQL `vk_bench_letters` on 127.0.0.1:5432 when it answers, else a
temporary SQLite file) holding the demo region, ``VK_BENCH_LETTERS`` bookings (default 1,000: a
scaled-down day; set 62000 for the full one) are made before the day's cutoff at one unit, for the
demo's residents with registered addresses, a third of whom chose digital letters. Then, in one
process (one worker core):

1. Baseline: the bare WeasyPrint render of the same letter document (the first booking's),
   ``BARE_REPEAT`` times.
2. The day's run, ``letters_issue`` (each booking's state at the cutoff, the letter rendered in
   Swedish and English and as a tagged PDF, stored, neutral notices to the person and whoever gets
   their letters), then the print batches of the paper letters (``print_batch_create``: one PDF
   and one manifest each, written to a folder).

Reported: letters per second of the run and of the bare render, their ratio (goal >= 0.8), and
the hours one worker core needs for 62,000 letters at the measured rate (goal < 4 h).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import record

LETTERS = int(os.environ.get("VK_BENCH_LETTERS", "1000"))
BARE_REPEAT = 40
# A run at full size may not fit the time on a shared machine: VK_BENCH_SECONDS stops it after that
# many seconds (between chunks), and the figures are those of the letters issued by then.
BUDGET_SECONDS = float(os.environ.get("VK_BENCH_SECONDS", "0"))
DAY_LETTERS = 62_000
RATIO_GOAL = 0.8
HOURS_GOAL = 4.0


def run() -> dict[str, object]:
    # This benchmark's own throwaway database; VK_BENCH_LETTERS_DATABASE gives a run beside another
    # (a short check while the full day runs) a name of its own, since the setup drops it first.
    record.DB_NAME = os.environ.get("VK_BENCH_LETTERS_DATABASE", "vk_bench_letters")
    with tempfile.TemporaryDirectory() as var, record.throwaway_database(Path(var)) as database:
        os.environ["VK_VAR_DIR"] = var
        os.environ["VK_LETTERS_PRINT_DIR"] = str(Path(var) / "print")
        record.django_setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO())
        return measure(database)


def measure(database: dict[str, str]) -> dict[str, object]:
    load_before = os.getloadavg()
    from django.utils import timezone

    from vardkontakt.booking.models import Booking, BookingChannel, Slot, VisitType
    from vardkontakt.core.calendar import STOCKHOLM
    from vardkontakt.identity.models import Patient
    from vardkontakt.letters import render
    from vardkontakt.letters.models import Letter, Paper, PrintBatch
    from vardkontakt.letters.services import cutoff_of, letters_issue, print_batch_create
    from vardkontakt.organisation.models import CareUnit

    unit = CareUnit.objects.filter(memberships__isnull=False).order_by("hsa_id").first()
    assert unit is not None
    practitioners = [m.staff for m in unit.memberships.select_related("staff")]
    visit = VisitType.objects.create(
        unit=unit, name="Återbesök", duration_minutes=20, professions=[], bookable_online=True, fee_kronor=200
    )
    people = list(Patient.objects.order_by("personnummer"))
    for n, person in enumerate(people):
        person.street_address = f"Exempelgatan {n + 1}"
        person.postal_code = f"{21100 + n:05d}"
        person.city = "Malmö"
        person.digital_letters = n % 3 == 0
    Patient.objects.bulk_update(people, ["street_address", "postal_code", "city", "digital_letters"])
    today = timezone.now().astimezone(STOCKHOLM).date()
    cutoff = cutoff_of(today, 18)
    made = cutoff - dt.timedelta(hours=6)
    # In UTC: a full day's slots run for weeks, across a change of clock (Swedish wall-clock
    # arithmetic would make a slot end before it starts).
    first = dt.datetime.combine(today + dt.timedelta(days=14), dt.time(8), tzinfo=STOCKHOLM).astimezone(dt.UTC)
    slots = [
        Slot(
            unit=unit,
            practitioner=practitioners[n % len(practitioners)],
            visit_type=visit,
            place="Rum 4",
            starts_at=first + dt.timedelta(minutes=20 * (n // len(practitioners))),
            ends_at=first + dt.timedelta(minutes=20 * (n // len(practitioners) + 1)),
        )
        for n in range(LETTERS)
    ]
    Slot.objects.bulk_create(slots, batch_size=2000)
    Booking.objects.bulk_create(
        [
            Booking(
                slot=slot,
                patient=people[n % len(people)],
                channel=BookingChannel.PHONE,
                booked_by_staff=slot.practitioner,
                created_at=made,
            )
            for n, slot in enumerate(slots)
        ],
        batch_size=2000,
    )

    import logging

    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its progress log, per letter

    # 1. The bare render of the same letter, in the same process (half before the run, half after,
    # so a change in the machine's load during the run weighs on both sides).
    sample = Booking.objects.select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner").first()
    assert sample is not None
    facts = render.facts_of(sample, "appointment")
    document = render.document(facts, render.page(facts, render.words_for(unit, "sv"), "sv"))
    render.pdf(document)  # warm: fonts and the stylesheet
    bare: list[float] = []
    bare_cpu: list[float] = []

    def bare_renders(count: int) -> None:
        for _ in range(count):
            began, began_cpu = time.perf_counter(), time.process_time()
            render.pdf(document)
            bare.append(time.perf_counter() - began)
            bare_cpu.append(time.process_time() - began_cpu)

    bare_renders(BARE_REPEAT // 2)

    # 2. The day's run and its print batches. Each chunk of the run is timed, so that a run at
    # full size stopped by the time budget still says how fast it went and whether it slowed down
    # as the tables grew.
    from vardkontakt.letters import services

    chunks: list[tuple[int, float, float]] = []  # (letters issued, wall seconds, CPU seconds)
    issue_chunk = services._issue_chunk
    deadline = time.perf_counter() + BUDGET_SECONDS if BUDGET_SECONDS else None

    def timed_chunk(*args: Any, **kwargs: Any) -> int:
        if deadline is not None and time.perf_counter() > deadline:
            raise BudgetSpent
        chunk_began, chunk_began_cpu = time.perf_counter(), time.process_time()
        count = issue_chunk(*args, **kwargs)
        chunks.append((count, time.perf_counter() - chunk_began, time.process_time() - chunk_began_cpu))
        return count

    services._issue_chunk = timed_chunk  # type: ignore[assignment]
    began, began_cpu = time.perf_counter(), time.process_time()
    try:
        letters_issue(region=unit.administration.region, day=today, now=cutoff + dt.timedelta(minutes=1))
        stopped = False
    except BudgetSpent:
        stopped = True  # the run's letters so far are stored: it is taken up again like a crashed one
    finally:
        services._issue_chunk = issue_chunk  # type: ignore[assignment]
    issued = sum(count for count, _wall, _cpu in chunks)
    issue_seconds = time.perf_counter() - began
    issue_cpu = time.process_time() - began_cpu
    began = time.perf_counter()
    batches = 0
    while print_batch_create(now=cutoff + dt.timedelta(minutes=2)) is not None:
        batches += 1
    print_seconds = time.perf_counter() - began
    run_cpu = time.process_time() - began_cpu
    bare_renders(BARE_REPEAT - BARE_REPEAT // 2)
    bare_seconds = statistics.median(bare)
    total = issue_seconds + print_seconds
    rate = issued / total
    bare_rate = 1 / bare_seconds
    hours = DAY_LETTERS / rate / 3600
    # The worker process's own CPU time (the database's work is in its own processes): steadier
    # than the wall clock on a shared machine.
    cpu_rate = issued / run_cpu
    bare_cpu_rate = 1 / statistics.median(bare_cpu)
    # The run's rate is a mean (all its work over all its letters), and a loaded machine's pauses
    # fall into it; the bare render's mean takes them in the same way.
    bare_cpu_mean_rate = 1 / statistics.mean(bare_cpu)
    printed = Letter.objects.filter(paper=Paper.PRINTED).count()
    tenth = max(1, len(chunks) // 10)
    first_chunks, last_chunks = chunks[:tenth], chunks[-tenth:]
    return {
        "database": database,
        "load_average_before": load_before,
        "letters": LETTERS,
        "bookings_in_the_run": LETTERS,
        "scaled_down": LETTERS < DAY_LETTERS,
        "issued": issued,
        "digital": Letter.objects.filter(digital=True).count(),
        "printed": printed,
        "print_batches": batches,
        "print_pages": sum(PrintBatch.objects.values_list("page_count", flat=True)),
        "bare_render_seconds_median": round(bare_seconds, 4),
        "bare_render_letters_per_second": round(bare_rate, 2),
        "issue_seconds": round(issue_seconds, 2),
        "print_seconds": round(print_seconds, 2),
        "issue_cpu_seconds": round(issue_cpu, 2),
        "print_cpu_seconds": round(run_cpu - issue_cpu, 2),
        "letters_per_second_per_core": round(rate, 2),
        "ratio_to_bare_render": round(rate / bare_rate, 3),
        "ratio_goal": RATIO_GOAL,
        "hours_for_62000_on_one_core": round(hours, 2),
        "cpu_letters_per_second": round(cpu_rate, 2),
        "cpu_bare_render_letters_per_second": round(bare_cpu_rate, 2),
        "cpu_ratio_to_bare_render": round(cpu_rate / bare_cpu_rate, 3),
        "cpu_bare_render_letters_per_second_mean": round(bare_cpu_mean_rate, 2),
        "cpu_ratio_to_bare_render_mean": round(cpu_rate / bare_cpu_mean_rate, 3),
        "cpu_hours_for_62000_on_one_core": round(DAY_LETTERS / cpu_rate / 3600, 2),
        "hours_goal": HOURS_GOAL,
        "budget_seconds": BUDGET_SECONDS,
        "stopped_by_budget": stopped,
        "chunks": len(chunks),
        "cpu_letters_per_second_first_tenth": _rate(first_chunks),
        "cpu_letters_per_second_last_tenth": _rate(last_chunks),
        "load_average_after": os.getloadavg(),
    }


class BudgetSpent(Exception):
    """The time budget ran out: the run stops between two chunks."""


def _rate(chunks: list[tuple[int, float, float]]) -> float:
    cpu = sum(seconds for _count, _wall, seconds in chunks)
    return round(sum(count for count, _wall, _cpu in chunks) / cpu, 2) if cpu else 0.0
