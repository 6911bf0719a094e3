"""Every write of letters: the day's issue, paper, print batches, keeping, and opening a letter.

**One letter per change of a day.** Bookings change all day (booked, moved, cancelled, by the
resident or on the phone); letters leave once a day, after the region's issue hour (18:00 by
default, Europe/Stockholm). The day's run looks at every appointment changed since the previous
cutoff, takes its state *at the cutoff* and compares it with the last letter sent about it: a new
appointment gets an appointment letter, a moved one a change, a cancelled one (that was told of) a
cancellation, and one booked and cancelled within the day nothing. A booking changed twice in a day
therefore makes one letter, and a run taken up again after a crash sends nothing twice (the state
comparison, and a unique letter per booking and kind).

**Paper is never lost.** A letter goes on paper when nobody who gets it chose digital letters, and
a digital one that nobody has opened ``paper_days_before`` days before the visit goes on paper too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking.models import Booking
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.letters import policy, render
from vardkontakt.letters.models import (
    Letter,
    LetterKind,
    LetterRun,
    LetterSettings,
    LetterTemplate,
    Paper,
    PaperReason,
    PrintBatch,
)
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.organisation.models import CareUnit, Region

logger = logging.getLogger(__name__)

# A run taken up again when its worker has said nothing for this long (it died mid-run).
STALE_RUN = dt.timedelta(minutes=30)
# A worker down for days catches up at most this many days' runs (older changes are long past).
CATCH_UP_DAYS = 7


def settings_of(region: Region) -> LetterSettings:
    """The region's letter rules; a region that never set them has the defaults (not saved)."""
    found = LetterSettings.objects.filter(region=region).first()
    return found or LetterSettings(region=region)


def cutoff_of(day: dt.date, issue_hour: int) -> dt.datetime:
    """The instant the letters of ``day`` leave: the issue hour of that Swedish day (in summer
    time 16:00 UTC for 18:00, in winter 17:00 UTC; never an hour that does not exist, as the
    issue hour is a whole hour between 0 and 23 and Sweden changes the clock at 02:00/03:00)."""
    return dt.datetime.combine(day, dt.time(issue_hour), tzinfo=STOCKHOLM).astimezone(dt.UTC)


# --- the day's run -----------------------------------------------------------------------------


def letters_issue_due(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat: run each region's day once its cutoff has passed (and catch up
    days a stopped worker missed). Returns how many letters were issued."""
    now = now or timezone.now()
    issued = 0
    for region in Region.objects.all():
        rules = settings_of(region)
        today = now.astimezone(STOCKHOLM).date()
        for back in range(CATCH_UP_DAYS, -1, -1):
            day = today - dt.timedelta(days=back)
            cutoff = cutoff_of(day, rules.issue_hour)
            if cutoff > now:
                continue
            run = LetterRun.objects.filter(region=region, day=day).first()
            if run is not None and (run.finished_at or run.ran_at > now - STALE_RUN):
                continue
            if run is None and back and not _ran_before(region, day):
                continue  # a region's first run is today's: nothing to catch up before it
            issued += letters_issue(region=region, day=day, now=now)
    return issued


def _ran_before(region: Region, day: dt.date) -> bool:
    return LetterRun.objects.filter(region=region, day__lt=day).exists()


def _claim_run(region: Region, day: dt.date, cutoff: dt.datetime, now: dt.datetime) -> LetterRun | None:
    """The day's run, claimed by this worker (None: another worker has it)."""
    with transaction.atomic():
        run = LetterRun.objects.select_for_update().filter(region=region, day=day).first()
        if run is None:
            try:
                with transaction.atomic():
                    return LetterRun.objects.create(region=region, day=day, cutoff=cutoff, ran_at=now)
            except IntegrityError:
                return None
        if run.finished_at or run.ran_at > now - STALE_RUN:
            return None
        run.ran_at = now
        run.save(update_fields=["ran_at"])
        return run


def letters_issue(*, region: Region, day: dt.date, now: dt.datetime | None = None) -> int:
    """The letters of ``region`` for the changes up to ``day``'s cutoff (since the previous run's)."""
    now = now or timezone.now()
    rules = settings_of(region)
    cutoff = cutoff_of(day, rules.issue_hour)
    run = _claim_run(region, day, cutoff, now)
    if run is None:
        return 0
    previous = LetterRun.objects.filter(region=region, day__lt=day, finished_at__isnull=False).first()
    since = previous.cutoff if previous else cutoff - dt.timedelta(days=1)
    issued = 0
    words: dict[uuid.UUID, dict[str, render.Words]] = {}
    for key in _changed_appointments(region, since, cutoff):
        if _issue_for(key, cutoff, now, words) is not None:
            issued += 1
    LetterRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), issued=run.issued + issued)
    return issued


def _changed_appointments(region: Region, since: dt.datetime, cutoff: dt.datetime) -> list[uuid.UUID]:
    """The appointments (a booking and its moves share one calendar event) of the region's units
    with a booking made or ended in (since, cutoff]."""
    changed = Q(created_at__gt=since, created_at__lte=cutoff) | Q(ended_at__gt=since, ended_at__lte=cutoff)
    rows = Booking.objects.filter(changed, slot__unit__administration__region=region).values_list("pk", "calendar_uid")
    return sorted({calendar_uid or pk for pk, calendar_uid in rows})


def _state_at(key: uuid.UUID, cutoff: dt.datetime) -> tuple[Booking | None, bool]:
    """The appointment's newest booking made by the cutoff, and whether it was active then."""
    booking = (
        Booking.objects.filter(Q(pk=key) | Q(calendar_uid=key), created_at__lte=cutoff)
        .select_related("patient", "slot__unit__administration", "slot__visit_type", "slot__practitioner")
        .order_by("-created_at")
        .first()
    )
    if booking is None:
        return None, False
    return booking, booking.ended_at is None or booking.ended_at > cutoff


def kind_to_issue(booking: Booking, active: bool, last: Letter | None, cutoff: dt.datetime) -> str | None:
    """Which letter the appointment's state at the cutoff calls for, given the last one sent."""
    if booking.slot.starts_at <= cutoff:
        return None  # the visit has begun or passed: a letter would come too late
    if active:
        if last is None:
            return LetterKind.APPOINTMENT
        if last.kind != LetterKind.CANCELLATION and last.booking_id != booking.pk:
            return LetterKind.CHANGE
        return None
    if last is not None and last.kind != LetterKind.CANCELLATION:
        return LetterKind.CANCELLATION
    return None  # booked and cancelled before anyone was told: nothing to tell


def _issue_for(
    key: uuid.UUID, cutoff: dt.datetime, now: dt.datetime, words: dict[uuid.UUID, dict[str, render.Words]]
) -> Letter | None:
    booking, active = _state_at(key, cutoff)
    if booking is None:
        return None
    last = Letter.objects.filter(event_uid=key).order_by("-issued_at").first()
    kind = kind_to_issue(booking, active, last, cutoff)
    if kind is None:
        return None
    unit = booking.slot.unit
    if unit.pk not in words:
        words[unit.pk] = {language: render.words_for(unit, language) for language in ("sv", "en")}
    # Rendered before the transaction: the letter is made from the state at the cutoff, which
    # nothing changes any more, so no row needs to be held while WeasyPrint works.
    made = render.letter_render(booking, kind, words[unit.pk])
    return letter_create(booking=booking, kind=kind, event_uid=key, rendered=made, now=now)


def readers_of(patient: Patient, *, now: dt.datetime) -> list[Patient]:
    """Who gets the person's letters: the person, their guardians while they may act for a child,
    and proxies with the bookings scope."""
    guardians = Patient.objects.filter(guardianships__child=patient, guardianships__ended_at__isnull=True)
    agents = Patient.objects.filter(
        proxies_held__principal=patient, proxies_held__status="active", proxies_held__scope_bookings=True
    )
    others = {p.pk: p for p in [*guardians, *agents] if p.pk != patient.pk}
    return [
        patient,
        *(p for p in others.values() if access_policy.can_act_for(p, patient, access_policy.Scope.BOOKINGS, now=now)),
    ]


def letter_create(
    *, booking: Booking, kind: str, event_uid: uuid.UUID, rendered: render.Rendered, now: dt.datetime
) -> Letter | None:
    """Store the letter, decide digital or paper, replace the earlier letter's paper copy if it has
    not been printed, and tell its readers (neutral notices). None: it was stored already."""
    patient = booking.patient
    readers = readers_of(patient, now=now)
    digital = any(reader.digital_letters for reader in readers)
    paper, reason = Paper.NONE, PaperReason.NONE
    if not digital:
        paper = Paper.DUE if patient.has_address else Paper.NO_ADDRESS
        reason = PaperReason.NOT_DIGITAL
    try:
        with transaction.atomic():
            earlier = Letter.objects.filter(event_uid=event_uid, current=True)
            earlier.filter(paper__in=[Paper.DUE, Paper.NO_ADDRESS]).update(paper=Paper.SUPERSEDED)
            earlier.update(current=False)
            letter = Letter.objects.create(
                patient=patient,
                booking=booking,
                unit=booking.slot.unit,
                kind=kind,
                event_uid=event_uid,
                appointment_at=booking.slot.starts_at,
                issued_at=now,
                html_sv=rendered.html_sv,
                html_en=rendered.html_en,
                pdf=rendered.pdf,
                digital=digital,
                paper=paper,
                paper_reason=reason,
            )
            for reader in readers:
                notification_create(
                    recipient=reader,
                    kind=NotificationKind.NEW_LETTER,
                    cause=f"letter:{letter.pk}",
                    cause_is_new=True,
                    about=About.LETTER,
                    about_id=letter.pk,
                )
    except IntegrityError:
        return None  # a run taken up again: this letter was stored before the crash
    if paper == Paper.NO_ADDRESS:
        logger.warning("letter %s cannot go on paper: no registered address", letter.pk)
    return letter


# --- paper --------------------------------------------------------------------------------------


def letters_to_paper(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat: the newest digital letter of an appointment that nobody has opened
    ``paper_days_before`` days before it (the region's rule) goes on paper."""
    now = now or timezone.now()
    moved = 0
    for region in Region.objects.all():
        days = settings_of(region).paper_days_before
        unopened = Letter.objects.filter(
            unit__administration__region=region,
            current=True,
            digital=True,
            paper=Paper.NONE,
            read_at__isnull=True,
            content_removed_at__isnull=True,
            appointment_at__gt=now,
            appointment_at__lte=now + dt.timedelta(days=days),
        )
        addressed = ~Q(patient__street_address="") & ~Q(patient__postal_code="") & ~Q(patient__city="")
        moved += unopened.filter(addressed).update(paper=Paper.DUE, paper_reason=PaperReason.UNOPENED)
        moved += unopened.update(paper=Paper.NO_ADDRESS, paper_reason=PaperReason.UNOPENED)
    return moved


def print_folder() -> Path:
    return Path(settings.LETTERS_PRINT_DIR)


def print_batch_create(*, now: dt.datetime | None = None, limit: int | None = None) -> PrintBatch | None:
    """Every letter waiting for paper (up to ``limit``), as one PDF in postal-code order and a
    manifest, written to the print folder for the print-and-mail provider. The files get their
    final names only when the batch has committed, so the provider never picks up a batch the
    database does not know; letters claimed by another worker's batch are skipped."""
    from pypdf import PdfReader, PdfWriter

    now = now or timezone.now()
    limit = limit or settings.LETTERS_BATCH_MAX
    folder = print_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        letters = list(
            Letter.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(paper=Paper.DUE)
            .select_related("patient", "unit")
            .order_by("patient__postal_code", "issued_at", "pk")[:limit]
        )
        if not letters:
            return None
        writer = PdfWriter()
        rows = []
        for number, letter in enumerate(letters, start=1):
            first_page = len(writer.pages) + 1
            writer.append(PdfReader(io.BytesIO(bytes(letter.pdf))))
            rows.append(_manifest_row(number, letter, first_page, len(writer.pages) - first_page + 1))
        content = io.BytesIO()
        writer.write(content)
        data = content.getvalue()
        batch_id = uuid.uuid4()
        stem = f"brev-{now.astimezone(STOCKHOLM):%Y%m%d-%H%M%S}-{str(batch_id)[:8]}"
        batch = PrintBatch.objects.create(
            id=batch_id,
            created_at=now,
            letter_count=len(letters),
            page_count=len(writer.pages),
            pdf_name=f"{stem}.pdf",
            manifest_name=f"{stem}.json",
            pdf_sha256=hashlib.sha256(data).hexdigest(),
        )
        manifest = {
            "batch": str(batch.pk),
            "created_at": now.isoformat(),
            "pdf": batch.pdf_name,
            "pdf_sha256": batch.pdf_sha256,
            "letters": batch.letter_count,
            "pages": batch.page_count,
            "envelope": "C5 window, address 20 mm from the left, 45 mm from the top",
            "items": rows,
        }
        _write_pending(folder / batch.pdf_name, data)
        _write_pending(folder / batch.manifest_name, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(paper=Paper.PRINTED, print_batch=batch)
        transaction.on_commit(lambda: _publish(folder, [batch.pdf_name, batch.manifest_name]))
    return batch


def _manifest_row(number: int, letter: Letter, first_page: int, pages: int) -> dict[str, object]:
    patient = letter.patient
    return {
        "sequence": number,
        "letter": str(letter.pk),
        "kind": letter.kind,
        "first_page": first_page,
        "pages": pages,
        "name": patient.full_name,
        "street_address": patient.street_address,
        "postal_code": patient.postal_code,
        "city": patient.city,
    }


def _write_pending(path: Path, data: bytes) -> None:
    """Written under a name the provider ignores (``.part``) and flushed to disk."""
    with open(f"{path}.part", "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _publish(folder: Path, names: Iterable[str]) -> None:
    for name in names:
        os.replace(folder / f"{name}.part", folder / name)


def print_batches_due(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat: a batch when letters wait and the last batch is at least
    ``LETTERS_PRINT_EVERY_MINUTES`` old (the provider collects batches, not single letters)."""
    now = now or timezone.now()
    latest = PrintBatch.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    if latest and latest > now - dt.timedelta(minutes=settings.LETTERS_PRINT_EVERY_MINUTES):
        return 0
    made = 0
    while print_batch_create(now=now) is not None:
        made += 1
    return made


# --- keeping ------------------------------------------------------------------------------------


def letters_remove_expired(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat: the content of letters to people who have never logged in goes
    after the region's keeping time (the row stays, without content, so the next letter about the
    appointment is still a change, not a new appointment). Letters still waiting for paper stay."""
    now = now or timezone.now()
    removed = 0
    for region in Region.objects.all():
        days = settings_of(region).keep_days_without_account
        removed += (
            Letter.objects.filter(
                unit__administration__region=region,
                patient__user__isnull=True,
                issued_at__lt=now - dt.timedelta(days=days),
                content_removed_at__isnull=True,
            )
            .exclude(paper__in=[Paper.DUE])
            .update(html_sv="", html_en="", pdf=b"", content_removed_at=now)
        )
    return removed


# --- opening ------------------------------------------------------------------------------------

OPEN = "letter.open"
PDF = "letter.pdf"


def letter_open(*, reader: Patient, letter_id: uuid.UUID | str, action: str = OPEN) -> Letter:
    """A letter of someone the reader may get letters of, opened (read on the page, or saved as
    PDF): no longer unread, and logged; anyone else's is not found."""
    letter = (
        Letter.objects.select_related("patient", "unit", "booking__slot__visit_type", "booking__slot__unit")
        .filter(pk=letter_id)
        .first()
    )
    if letter is None or not policy.may_read_letters(reader, letter.patient):
        raise Http404
    now = timezone.now()
    with transaction.atomic():
        Letter.objects.filter(pk=letter.pk).update(opened_at=now)
        Letter.objects.filter(pk=letter.pk, read_at__isnull=True).update(read_at=now)
        audit(
            actor=Actor.of_patient(reader),
            action=action,
            patient=letter.patient,
            on_behalf_of=letter.patient,
            obj=letter,
            unit=letter.unit,
        )
    letter.opened_at = now
    letter.read_at = letter.read_at or now
    return letter


# --- the unit's words ---------------------------------------------------------------------------

TEMPLATE_CHANGE = "letter_template.change"


@transaction.atomic
def letter_template_save(*, unit: CareUnit, by: Staff, language: str, words: render.Words) -> LetterTemplate:
    """A unit administrator's words for the unit's letters in one language (the view has asked the
    policy); logged with the unit as the last statement of the transaction. Letters already sent
    keep the words they were sent with."""
    template, _created = LetterTemplate.objects.update_or_create(
        unit=unit,
        language=language,
        defaults={
            "greeting": words.greeting,
            "preparation": words.preparation,
            "directions": words.directions,
            "closing": words.closing,
        },
    )
    audit(actor=Actor.of_staff(by), action=TEMPLATE_CHANGE, unit=unit, obj=template, detail=language)
    return template


SETTINGS_CHANGE = "letter_settings.change"


@transaction.atomic
def letter_settings_update(*, region: Region, by: Staff, values: dict[str, int]) -> list[str]:
    """A region administrator's letter rules (the view has asked the policy); logged with the
    names of what changed. Returns those names (none: nothing was written)."""
    rules, _created = LetterSettings.objects.select_for_update().get_or_create(region=region)
    changed = [name for name, value in values.items() if getattr(rules, name) != value]
    if changed:
        for name in changed:
            setattr(rules, name, values[name])
        rules.save(update_fields=changed)
        audit(actor=Actor.of_staff(by), action=SETTINGS_CHANGE, obj=region, detail=", ".join(changed))
    return changed
