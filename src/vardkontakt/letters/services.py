"""Every write of letters: the day's issue, paper, print batches, keeping, and opening a letter.

**One letter per change of a day.** Bookings change all day (booked, moved, cancelled, by the
resident or on the phone); letters leave once a day, after the region's issue hour (18:00 by
default, Europe/Stockholm). The day's run looks at every appointment changed since the previous
cutoff, takes its state *at the cutoff* and compares it with the last letter sent about it: a new
appointment gets an appointment letter, a moved one a change, a cancelled one (that was told of) a
cancellation, and one booked and cancelled within the day nothing. A booking changed twice in a day
therefore makes one letter, and a run taken up again after a crash sends nothing twice (the state
comparison, and a unique letter per booking and kind).

**Appointments other booking systems publish** (booking.external) get their letters in the same
run, unless their source system sends its own (``SourceLetters``). Their row is the source's and
changes in place, so the run takes each one whose last change falls in (previous cutoff, cutoff]
as it is: that is its state at the cutoff. One changed again after the cutoff, before a late run,
is left to the next day's run, whose window holds its last change, and is told of then as it is.

**Paper is never lost.** A letter goes on paper when nobody who gets it chose digital letters, and
a digital one that nobody has opened ``paper_days_before`` days before the visit goes on paper too.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import Guardianship, Proxy, ProxyStatus
from vardkontakt.booking.external_models import FINAL_STATUSES, ExternalAppointment, ExternalStatus
from vardkontakt.booking.models import Booking
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.letters import policy, render, sftp
from vardkontakt.letters.models import (
    Letter,
    LetterKind,
    LetterRun,
    LetterSettings,
    LetterTemplate,
    Paper,
    PaperReason,
    PrintBatch,
    SourceLetters,
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
    states = _states_at(region, since, cutoff)
    for start in range(0, len(states), CHUNK):
        issued += _issue_chunk(states[start : start + CHUNK], cutoff, now, words)
        # Alive: a large region's day takes about an hour of a core, longer than a run may stay
        # silent before another worker takes it up as dead.
        LetterRun.objects.filter(pk=run.pk).update(ran_at=max(now, timezone.now()))
    externals = _externals_changed(region, since, cutoff)
    for start in range(0, len(externals), CHUNK):
        issued += _issue_external_chunk(externals[start : start + CHUNK], cutoff, now, words)
        LetterRun.objects.filter(pk=run.pk).update(ran_at=max(now, timezone.now()))
    LetterRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), issued=run.issued + issued)
    return issued


# Appointments looked up, rendered and stored together: a handful of queries and one transaction
# per chunk instead of several of each per letter; small enough that a crash loses little work.
CHUNK = 200


@dataclass(frozen=True)
class State:
    """An appointment's state at the cutoff: its newest booking made by then, and whether that
    booking was still active at the cutoff."""

    key: uuid.UUID
    booking_id: uuid.UUID
    active: bool


def _states_at(region: Region, since: dt.datetime, cutoff: dt.datetime) -> list[State]:
    """Every appointment (a booking and its moves share one calendar event) of the region's units
    with a booking made or ended in (since, cutoff], in its state at the cutoff, in key order.

    One pass over the bookings for the whole run: a booking belongs to the appointment named by its
    own id (the first booking) or by its ``calendar_uid`` (a move)."""
    changed = Q(created_at__gt=since, created_at__lte=cutoff) | Q(ended_at__gt=since, ended_at__lte=cutoff)
    keys = (
        Booking.objects.filter(changed, slot__unit__administration__region=region)
        .annotate(key=Coalesce("calendar_uid", "id"))
        .values("key")
    )
    wanted = {row["key"] for row in keys}
    if not wanted:
        return []
    # The bookings of those appointments (a move's own id names no appointment of its own).
    rows = (
        Booking.objects.filter(created_at__lte=cutoff)
        .filter(Q(pk__in=keys) | Q(calendar_uid__in=keys))
        .values_list("pk", "calendar_uid", "created_at", "ended_at")
    )
    newest: dict[uuid.UUID, tuple[dt.datetime, uuid.UUID, dt.datetime | None]] = {}
    for pk, calendar_uid, created_at, ended_at in rows:
        for key in {pk, calendar_uid or pk}:
            seen = newest.get(key)
            if seen is None or created_at > seen[0]:
                newest[key] = (created_at, pk, ended_at)
    return [
        State(key, pk, ended_at is None or ended_at > cutoff)
        for key, (_made, pk, ended_at) in sorted(newest.items())
        if key in wanted
    ]


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


@dataclass(frozen=True)
class Made:
    """A letter rendered and ready to store, with who gets it: about a booking, or about an
    external appointment as it stood (its version)."""

    booking: Booking | None
    kind: str
    event_uid: uuid.UUID
    rendered: render.Rendered
    readers: list[Patient]
    external: ExternalAppointment | None = None

    @property
    def patient(self) -> Patient:
        return self.booking.patient if self.booking is not None else self._external.patient

    @property
    def unit(self) -> CareUnit:
        return self.booking.slot.unit if self.booking is not None else self._external.unit

    @property
    def appointment_at(self) -> dt.datetime:
        return self.booking.slot.starts_at if self.booking is not None else self._external.starts_at

    @property
    def _external(self) -> ExternalAppointment:
        if self.external is None:
            raise ValueError("a letter is about a booking or an external appointment")
        return self.external


def _issue_chunk(
    states: list[State], cutoff: dt.datetime, now: dt.datetime, words: dict[uuid.UUID, dict[str, render.Words]]
) -> int:
    bookings = Booking.objects.select_related(
        "patient", "slot__unit__administration", "slot__visit_type", "slot__practitioner"
    ).in_bulk([state.booking_id for state in states])
    last: dict[uuid.UUID, Letter] = {}
    # Only what the comparison needs: the stored letters' pages and PDFs stay in the database.
    for letter in (
        Letter.objects.filter(event_uid__in=[state.key for state in states])
        .only("id", "kind", "booking_id", "event_uid", "issued_at")
        .order_by("issued_at", "id")
    ):
        last[letter.event_uid] = letter
    due = []
    for state in states:
        booking = bookings[state.booking_id]
        kind = kind_to_issue(booking, state.active, last.get(state.key), cutoff)
        if kind is not None:
            due.append((state.key, booking, kind))
    readers = readers_of_many([booking.patient for _key, booking, _kind in due], now=now)
    made = []
    for key, booking, kind in due:
        # Rendered before the transaction: the letter is made from the state at the cutoff, which
        # nothing changes any more, so no row needs to be held while WeasyPrint works.
        rendered = render.letter_render(booking, kind, _words_of(booking.slot.unit, words))
        made.append(Made(booking, kind, key, rendered, readers[booking.patient_id]))
    return _store_made(made, now)


def _words_of(unit: CareUnit, words: dict[uuid.UUID, dict[str, render.Words]]) -> dict[str, render.Words]:
    if unit.pk not in words:
        words[unit.pk] = {language: render.words_for(unit, language) for language in ("sv", "en")}
    return words[unit.pk]


def _store_made(made: list[Made], now: dt.datetime) -> int:
    if not made:
        return 0
    try:
        stored = _store(made, now)
    except IntegrityError:
        # Another worker stored some of them (a run taken up again while this one still worked):
        # one at a time, each stored once.
        stored = [kept for one in made if (kept := _store_one(one, now)) is not None]
    for done in stored:
        if done.paper == Paper.NO_ADDRESS:
            logger.warning("letter %s cannot go on paper: no registered address", done.pk)
    return len(stored)


def _externals_changed(region: Region, since: dt.datetime, cutoff: dt.datetime) -> list[uuid.UUID]:
    """The region's external appointments last changed in (since, cutoff], in id order, of source
    systems the platform sends letters for."""
    own_letters = SourceLetters.objects.filter(platform_sends_letters=False).values("source_system")
    return list(
        ExternalAppointment.objects.filter(
            updated_at__gt=since, updated_at__lte=cutoff, unit__administration__region=region
        )
        .exclude(source_system__in=own_letters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def kind_to_issue_external(row: ExternalAppointment, last: Letter | None, cutoff: dt.datetime) -> str | None:
    """Which letter an external appointment as it stands calls for, given the last one sent: a
    booked one never told of gets an appointment letter, one told of at another time or unit a
    change, a cancelled or withdrawn one that was told of a cancellation. Proposed, pending and
    waiting-list appointments are not yet to come to: no letter (and a told one that becomes so
    is left to the unit)."""
    if row.starts_at <= cutoff:
        return None  # the visit has begun or passed: a letter would come too late
    if row.status == ExternalStatus.BOOKED:
        if last is None:
            return LetterKind.APPOINTMENT
        if last.kind != LetterKind.CANCELLATION and (last.appointment_at, last.unit_id) != (row.starts_at, row.unit_id):
            return LetterKind.CHANGE
        return None
    if row.status in FINAL_STATUSES and last is not None and last.kind != LetterKind.CANCELLATION:
        return LetterKind.CANCELLATION
    return None


def _issue_external_chunk(
    ids: list[uuid.UUID], cutoff: dt.datetime, now: dt.datetime, words: dict[uuid.UUID, dict[str, render.Words]]
) -> int:
    rows = ExternalAppointment.objects.select_related("patient", "unit__administration").in_bulk(ids)
    last: dict[uuid.UUID, Letter] = {}
    for letter in (
        Letter.objects.filter(event_uid__in=ids)
        .only("id", "kind", "event_uid", "issued_at", "appointment_at", "unit_id")
        .order_by("issued_at", "id")
    ):
        last[letter.event_uid] = letter
    due = []
    for pk in ids:
        row = rows.get(pk)
        if row is None or row.updated_at > cutoff:
            continue  # changed since the run's list was made: the next run tells of it
        kind = kind_to_issue_external(row, last.get(pk), cutoff)
        if kind is not None:
            due.append((row, kind))
    readers = readers_of_many([row.patient for row, _kind in due], now=now)
    made = [
        Made(
            None,
            kind,
            row.pk,
            render.rendered_of(render.facts_of_external(row, kind), _words_of(row.unit, words)),
            readers[row.patient_id],
            external=row,
        )
        for row, kind in due
    ]
    return _store_made(made, now)


def readers_of(patient: Patient, *, now: dt.datetime) -> list[Patient]:
    """Who gets the person's letters: the person, their guardians while they may act for a child,
    and proxies with the bookings scope."""
    return readers_of_many([patient], now=now)[patient.pk]


def readers_of_many(patients: Iterable[Patient], *, now: dt.datetime) -> dict[uuid.UUID, list[Patient]]:
    """``readers_of`` for many people in two queries (and the policy's own for those who have a
    guardian or proxy)."""
    people = {patient.pk: patient for patient in patients}
    others: dict[uuid.UUID, dict[uuid.UUID, Patient]] = {pk: {} for pk in people}
    guardianships = Guardianship.objects.filter(child_id__in=people, ended_at__isnull=True).select_related("guardian")
    for guardianship in guardianships:
        others[guardianship.child_id][guardianship.guardian_id] = guardianship.guardian
    proxies = Proxy.objects.filter(
        principal_id__in=people, status=ProxyStatus.ACTIVE, scope_bookings=True
    ).select_related("agent")
    for proxy in proxies:
        others[proxy.principal_id].setdefault(proxy.agent_id, proxy.agent)
    return {
        pk: [
            patient,
            *(
                other
                for other in others[pk].values()
                if other.pk != pk and access_policy.can_act_for(other, patient, access_policy.Scope.BOOKINGS, now=now)
            ),
        ]
        for pk, patient in people.items()
    }


def _paper_of(made: Made) -> tuple[bool, str, str]:
    digital = any(reader.digital_letters for reader in made.readers)
    if digital:
        return True, Paper.NONE, PaperReason.NONE
    return False, (Paper.DUE if made.patient.has_address else Paper.NO_ADDRESS), PaperReason.NOT_DIGITAL


def _letter_of(made: Made, now: dt.datetime) -> Letter:
    digital, paper, reason = _paper_of(made)
    return Letter(
        patient=made.patient,
        booking=made.booking,
        external=made.external,
        external_version=made.external.version if made.external is not None else None,
        unit=made.unit,
        kind=made.kind,
        event_uid=made.event_uid,
        appointment_at=made.appointment_at,
        issued_at=now,
        html_sv=made.rendered.html_sv,
        html_en=made.rendered.html_en,
        pdf=made.rendered.pdf,
        pdf_language=made.rendered.pdf_language,
        digital=digital,
        paper=paper,
        paper_reason=reason,
    )


@transaction.atomic
def _store(made: list[Made], now: dt.datetime) -> list[Letter]:
    """Store the letters, replace earlier letters' unprinted paper copies, and tell the readers
    (neutral notices), all in one transaction."""
    earlier = Letter.objects.filter(event_uid__in=[one.event_uid for one in made], current=True)
    earlier.filter(paper__in=[Paper.DUE, Paper.NO_ADDRESS]).update(paper=Paper.SUPERSEDED)
    earlier.update(current=False)
    letters = Letter.objects.bulk_create([_letter_of(one, now) for one in made])
    for one, letter in zip(made, letters, strict=True):
        _tell(one.readers, letter)
    return letters


def _tell(readers: list[Patient], letter: Letter) -> None:
    for reader in readers:
        notification_create(
            recipient=reader,
            kind=NotificationKind.NEW_LETTER,
            cause=f"letter:{letter.pk}",
            cause_is_new=True,
            about=About.LETTER,
            about_id=letter.pk,
        )


def _store_one(made: Made, now: dt.datetime) -> Letter | None:
    try:
        return _store([made], now)[0]
    except IntegrityError:
        return None  # a run taken up again: this letter was stored before the crash


def letter_create(
    *, booking: Booking, kind: str, event_uid: uuid.UUID, rendered: render.Rendered, now: dt.datetime
) -> Letter | None:
    """Store one letter, decide digital or paper, replace the earlier letter's paper copy if it has
    not been printed, and tell its readers (neutral notices). None: it was stored already."""
    made = Made(booking, kind, event_uid, rendered, readers_of(booking.patient, now=now))
    letter = _store_one(made, now)
    if letter is not None and letter.paper == Paper.NO_ADDRESS:
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
    """Everything waiting for paper (up to ``limit`` items): letters, and invoices and reminders
    (``letters.invoice_post``), as one PDF in postal-code order and a manifest, written to the print
    folder for the print-and-mail provider. The files get their final names only when the batch has
    committed, so the provider never picks up a batch the database does not know; items claimed by
    another worker's batch are skipped."""
    # qpdf (through pikepdf) joins the letters' PDFs about ten times faster than pypdf, which
    # parses each letter's whole structure tree: at a day's 40,000 paper letters that is minutes.
    import pikepdf

    from vardkontakt.letters import invoice_post

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
        items = [_letter_item(letter) for letter in letters]
        items += invoice_post.print_items(limit=limit - len(items))
        if not items:
            return None
        items.sort(key=lambda item: (item.postal_code, item.made_at, str(item.pk)))
        joined = pikepdf.Pdf.new()
        # qpdf copies a page's streams from its source only when the joined PDF is saved: the
        # sources stay open until then.
        sources = []
        rows = []
        for number, item in enumerate(items, start=1):
            first_page = len(joined.pages) + 1
            sources.append(pikepdf.Pdf.open(io.BytesIO(item.pdf())))
            joined.pages.extend(sources[-1].pages)
            rows.append(_manifest_row(number, item, first_page, len(joined.pages) - first_page + 1))
        content = io.BytesIO()
        joined.save(content)
        for source in sources:
            source.close()
        data = content.getvalue()
        batch_id = uuid.uuid4()
        stem = f"brev-{now.astimezone(STOCKHOLM):%Y%m%d-%H%M%S}-{str(batch_id)[:8]}"
        batch = PrintBatch.objects.create(
            id=batch_id,
            created_at=now,
            letter_count=len(items),
            page_count=len(joined.pages),
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
        invoice_post.printed([item.pk for item in items if item.kind in invoice_post.PRINT_KINDS], batch)
        transaction.on_commit(lambda: _publish(folder, [batch.pdf_name, batch.manifest_name]))
    return batch


@dataclass(frozen=True)
class PrintItem:
    """One envelope's content in a print batch."""

    pk: uuid.UUID
    kind: str  # a LetterKind, or invoice_post.KINDS for invoices
    patient: Patient
    made_at: dt.datetime
    pdf: Callable[[], bytes]

    @property
    def postal_code(self) -> str:
        return self.patient.postal_code


def _letter_item(letter: Letter) -> PrintItem:
    return PrintItem(letter.pk, letter.kind, letter.patient, letter.issued_at, lambda: bytes(letter.pdf))


def _manifest_row(number: int, item: PrintItem, first_page: int, pages: int) -> dict[str, object]:
    patient = item.patient
    return {
        "sequence": number,
        "letter": str(item.pk),
        "kind": item.kind,
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


# A failed delivery is tried again after 1, 2, 4 ... minutes, at most an hour apart.
DELIVERY_BACKOFF_MAX = dt.timedelta(hours=1)


def delivery_backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=2 ** min(attempts - 1, 16)), DELIVERY_BACKOFF_MAX)


def print_batches_deliver(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat, where an SFTP target is configured: every batch not yet delivered
    (and not waiting for its next try) to the provider's server, oldest first; the print folder's
    copies go once the server has them. A failure is noted on the batch and tried again later; the
    round stops at the first failure (the server is likely down for the others too). Returns how
    many batches were delivered."""
    target = sftp.configured_target()
    if target is None:
        return 0
    now = now or timezone.now()
    folder = print_folder()
    delivered = 0
    while True:
        # The row stays locked while its files travel: two workers never upload the same batch
        # at once. A worker that dies after the upload leaves the manifest on the server, and the
        # next try sees it there and uploads nothing again.
        with transaction.atomic():
            batch = (
                PrintBatch.objects.select_for_update(skip_locked=True)
                .filter(delivered_at__isnull=True)
                .filter(Q(next_delivery_at__isnull=True) | Q(next_delivery_at__lte=now))
                .order_by("created_at", "pk")
                .first()
            )
            if batch is None:
                return delivered
            batch.delivery_attempts += 1
            try:
                sftp.deliver(target, folder, batch.pdf_name, batch.manifest_name)
            except sftp.DeliveryFailed as error:
                batch.next_delivery_at = now + delivery_backoff(batch.delivery_attempts)
                batch.delivery_error = str(error)[:500]
                batch.save(update_fields=["delivery_attempts", "next_delivery_at", "delivery_error"])
                logger.warning(
                    "print batch %s not delivered (attempt %s): %s", batch.pk, batch.delivery_attempts, error
                )
                return delivered
            batch.delivered_at = timezone.now()
            batch.next_delivery_at = None
            batch.delivery_error = ""
            batch.save(update_fields=["delivery_attempts", "delivered_at", "next_delivery_at", "delivery_error"])
            transaction.on_commit(functools.partial(_remove_from_folder, folder, [batch.pdf_name, batch.manifest_name]))
        delivered += 1


def _remove_from_folder(folder: Path, names: Iterable[str]) -> None:
    """The print folder is only the way to the server once one is configured: addresses and
    letters are not kept there after delivery."""
    for name in names:
        (folder / name).unlink(missing_ok=True)


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
        Letter.objects.select_related(
            "patient", "unit", "booking__slot__visit_type", "booking__slot__unit", "external__unit"
        )
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


# --- source systems that send their own letters -------------------------------------------------

SOURCE_LETTERS_CHANGE = "letters.source.change"


@transaction.atomic
def source_letters_set(*, source_system: str, platform_sends_letters: bool, by: Actor) -> SourceLetters:
    """Whether the platform sends the letters of a booking system's published appointments (an
    operator's choice, for a source that sends its own paper letters); logged when it changes.
    Letters already sent stay; the next run follows the new choice."""
    row, created = SourceLetters.objects.select_for_update().get_or_create(
        source_system=source_system, defaults={"platform_sends_letters": platform_sends_letters}
    )
    if created or row.platform_sends_letters != platform_sends_letters:
        row.platform_sends_letters = platform_sends_letters
        row.save(update_fields=["platform_sends_letters", "updated_at"])
        audit(
            actor=by,
            action=SOURCE_LETTERS_CHANGE,
            obj=row,
            detail="platform sends letters" if platform_sends_letters else "the source sends its own letters",
        )
    return row
