"""Tidbok online, the resident's side: book, see, cancel and move appointments, for oneself or
for the person one acts for, and take them into one's own calendar.

The views check nothing themselves: each hands the logged-in resident (the reader) and the person
they act for (the subject) to a selector or service, which asks the policy (404 for someone the
reader may not book for) and logs what was read or changed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access.acting import acting_for
from vardkontakt.booking import calendar, checkin, external, external_slots, offers, selectors, services, waiting_list
from vardkontakt.booking.models import ArrivalVia
from vardkontakt.booking.schedule import settings_of
from vardkontakt.booking.services import BookingRefused, Refusal
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.core.waiting_room import waiting_room
from vardkontakt.identity.decorators import PatientRequest, patient_required, public, recent_login_required
from vardkontakt.identity.models import Patient


def _subject(request: PatientRequest) -> Patient:
    """The person acted for (whether the resident may book for them is the selectors' question)."""
    return acting_for(request).subject


def _by_day(slots: list[Any]) -> list[tuple[Any, list[Any]]]:
    days: dict[Any, list[Any]] = defaultdict(list)
    for slot in slots:
        days[slot.starts_at.astimezone(STOCKHOLM).date()].append(slot)
    return sorted(days.items())


@patient_required
@require_GET
def my_bookings(request: PatientRequest) -> HttpResponse:
    subject = _subject(request)
    shown = selectors.appointments_of(reader=request.patient, subject=subject)
    context = {
        "subject": subject,
        "upcoming": shown.upcoming,
        "past": shown.past,
        "external_upcoming": shown.external_upcoming,
        "external_past": shown.external_past,
    }
    return render(request, "booking/mine.html", context)


@patient_required
@require_GET
def external_detail(request: PatientRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """An appointment another booking system published: read only, with a request to cancel or
    move it sent back to that system."""
    appointment = external.external_for_reader(reader=request.patient, appointment_id=appointment_id)
    now = timezone.now()
    may_cancel = external_slots.may_cancel_online(appointment, now)
    context = {
        "appointment": appointment,
        "open_request": external.open_request_of(appointment),
        "may_cancel": may_cancel,
        "may_ask": not may_cancel and appointment.is_open and appointment.starts_at > now,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "booking/external_detail.html", context)


@patient_required
@require_POST
def external_request(request: PatientRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Ask the appointment's booking system to cancel it or give another time (the service is the
    door and logs it; the same form twice asks once)."""
    kind = request.POST.get("kind", "")
    try:
        external.external_request_create(
            appointment_id=appointment_id,
            actor=request.patient,
            kind=kind,
            note=request.POST.get("note", "")[:300],
            form_key=services.submission_key(
                "external", request.patient.pk, appointment_id, kind, request.POST.get("form_key", "")[:64]
            )
            if request.POST.get("form_key")
            else None,
        )
    except external.RequestRefused as refused:
        refusal: dict[str, Any] = {"message": str(refused), "alternatives": [], "unit": refused.unit}
        return render(request, "booking/refused.html", refusal, status=400)
    if kind == "cancel":
        messages.success(
            request, _("Your request to cancel is sent to the unit. The appointment stays until the unit cancels it.")
        )
    else:
        messages.success(
            request, _("Your request for another time is sent to the unit. The unit will change the appointment.")
        )
    return redirect("booking:external_detail", appointment_id=appointment_id)


@patient_required
@require_GET
def choose_unit(request: PatientRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    listed, others = selectors.units_to_book_at(reader=request.patient, subject=_subject(request), query=query)
    return render(request, "booking/choose_unit.html", {"listed": listed, "others": others, "query": query})


@patient_required
@require_GET
def visit_types(request: PatientRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = selectors.unit_booking_online(unit_id=unit_id)
    offered = selectors.online_visit_types(reader=request.patient, subject=_subject(request), unit=unit)
    today = timezone.localdate()
    shown = [
        (visit_type, at_limit, selectors.fee_shown(visit_type=visit_type, patient=_subject(request), day=today))
        for visit_type, at_limit in offered
    ]
    published = selectors.external_schedules_offered(reader=request.patient, subject=_subject(request), unit=unit)
    context = {"unit": unit, "rules": settings_of(unit), "visit_types": shown, "published": published}
    return render(request, "booking/visit_types.html", context)


@patient_required
@require_GET
def external_slots_list(request: PatientRequest, unit_id: uuid.UUID, schedule_id: uuid.UUID) -> HttpResponse:
    """The free times another booking system published for residents to book here, by day."""
    unit = selectors.unit_live(unit_id=unit_id)
    schedule, days = selectors.external_slot_days(
        reader=request.patient, subject=_subject(request), unit=unit, schedule_id=schedule_id
    )
    return render(request, "booking/external_slots.html", {"unit": unit, "schedule": schedule, "days": days})


def _slot_refused(request: HttpRequest, refused: Exception, unit: Any) -> HttpResponse:
    context = {"message": str(refused), "alternatives": [], "unit": unit}
    return render(request, "booking/refused.html", context, status=409)


@patient_required
@require_http_methods(["GET", "POST"])
@waiting_room
def external_book(request: PatientRequest, unit_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    """Confirm (GET: the slot is held for the subject for a few minutes, so nobody else takes it
    meanwhile), then book (POST): an appointment of the slot's booking system. A double click
    books once; a hold that ran out is no hindrance while nobody else has taken the time."""
    subject = _subject(request)
    unit = selectors.unit_live(unit_id=unit_id)
    if request.method == "POST":
        try:
            row = external_slots.slot_book_online(reader=request.patient, subject=subject, unit=unit, slot_id=slot_id)
        except external_slots.SlotRefused as refused:
            return _slot_refused(request, refused, unit)
        messages.success(request, _("The appointment is booked."))
        return redirect("booking:external_detail", appointment_id=row.pk)
    try:
        slot = external_slots.slot_hold(reader=request.patient, subject=subject, unit=unit, slot_id=slot_id)
    except external_slots.SlotRefused as refused:
        return _slot_refused(request, refused, unit)
    back = reverse("booking:external_slots", kwargs={"unit_id": unit.pk, "schedule_id": slot.schedule_id})
    context = {"unit": unit, "slot": slot, "schedule": slot.schedule, "subject": subject, "back": back}
    return render(request, "booking/external_confirm.html", context)


@patient_required
@require_POST
def external_cancel(request: PatientRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Cancel an appointment booked in a published time: the time is free again, and its booking
    system reads the cancellation back (the service is the door and logs it; twice is once)."""
    try:
        external_slots.external_cancel_online(actor=request.patient, appointment_id=appointment_id)
    except external.RequestRefused as refused:
        refusal: dict[str, Any] = {"message": str(refused), "alternatives": [], "unit": refused.unit}
        return render(request, "booking/refused.html", refusal, status=400)
    messages.success(request, _("The appointment is cancelled."))
    return redirect("booking:external_detail", appointment_id=appointment_id)


def _date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


@patient_required
@require_GET
def free_slots(request: PatientRequest, unit_id: uuid.UUID, visit_type_id: uuid.UUID) -> HttpResponse:
    """One week of free times at a time, filtered by day and practitioner, with the first free time."""
    unit = selectors.unit_booking_online(unit_id=unit_id)
    visit_type = selectors.online_visit_type(unit=unit, visit_type_id=visit_type_id)
    week = selectors.slot_week(
        reader=request.patient,
        subject=_subject(request),
        unit=unit,
        visit_type=visit_type,
        week=_date_or_none(request.GET.get("week", "")),
        practitioner_id=request.GET.get("practitioner", "")[:40],
        day=_date_or_none(request.GET.get("day", "")),
    )
    context = {"unit": unit, "visit_type": visit_type, "week": week, "days": week.days, "rules": settings_of(unit)}
    return render(request, "booking/slots.html", context)


@patient_required
@require_http_methods(["GET", "POST"])
@waiting_room
def book(request: PatientRequest, unit_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    """Confirm (GET), then book (POST): one submission key per form, so a double click books once."""
    subject = _subject(request)
    unit = selectors.unit_booking_online(unit_id=unit_id)
    if request.method == "POST":
        key = request.POST.get("submission_key", "")[:64]
        try:
            booking = services.booking_create_online(
                slot_id=slot_id,
                unit=unit,
                subject=subject,
                actor=request.patient,
                sms_reminder=request.POST.get("sms_reminder") == "on",
                idempotency_key=services.submission_key("book", request.patient.pk, subject.pk, slot_id, key)
                if key
                else None,
            )
        except BookingRefused as refused:
            return _refused(request, refused, unit=unit)
        messages.success(request, _("The appointment is booked."))
        return redirect("booking:detail", booking_id=booking.pk)
    slot, at_limit = selectors.slot_to_confirm(reader=request.patient, subject=subject, unit=unit, slot_id=slot_id)
    if slot is None:
        return _refused(request, BookingRefused(Refusal.TAKEN), unit=unit)
    context = {
        "unit": unit,
        "slot": slot,
        "subject": subject,
        "rules": settings_of(unit),
        "submission_key": uuid.uuid4().hex,
        "mobile": subject.mobile,
        "at_limit": at_limit,
        "back": _week_of(slot),
        "fee": selectors.fee_shown(
            visit_type=slot.visit_type, patient=subject, day=slot.starts_at.astimezone(STOCKHOLM).date(), unit=unit
        ),
    }
    return render(request, "booking/confirm.html", context)


def _week_of(slot: Any) -> str:
    """The free times of the slot's visit type, in the slot's week: where "choose another time" leads."""
    url = reverse("booking:slots", kwargs={"unit_id": slot.unit_id, "visit_type_id": slot.visit_type_id})
    return f"{url}?{urlencode({'week': slot.starts_at.astimezone(STOCKHOLM).date().isoformat()})}"


def _refused(request: HttpRequest, refused: BookingRefused, **context: Any) -> HttpResponse:
    """Nothing changed: say why in plain words, with nearby free times when the slot has gone."""
    status = 409 if refused.refusal is Refusal.TAKEN else 400
    context = {"message": str(refused), "alternatives": _by_day(refused.alternatives), "unit": refused.unit, **context}
    return render(request, "booking/refused.html", context, status=status)


@patient_required
@require_GET
def detail(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    booking = selectors.booking_for_reader(reader=request.patient, booking_id=booking_id)
    # An offer that has run out passes on before the page says what is offered (the worker's
    # round would, a little later).
    waiting_list.offers_renew(visit_type_id=booking.slot.visit_type_id)
    now = timezone.now()
    day = booking.slot.starts_at.astimezone(STOCKHOLM).date()
    context = {
        "booking": booking,
        "fee": selectors.fee_shown(visit_type=booking.slot.visit_type, patient=booking.patient, day=day),
        "earlier": selectors.earlier_time_of(booking, now=now),
        "claim_hours": settings_of(booking.slot.unit).offer_claim_hours,
        "checkin": checkin.check_in_state(booking, now=now),
        **selectors.what_may_change(booking, now=now),
    }
    return render(request, "booking/detail.html", context)


def pay_url(fee_id: uuid.UUID | None) -> str:
    """The payment page of the fee, where the payments app is installed (else the amount alone)."""
    if fee_id is None:
        return ""
    try:
        return reverse("payments:pay_fee", kwargs={"fee_id": fee_id})
    except NoReverseMatch:
        return ""


@patient_required
@require_http_methods(["GET", "POST"])
def check_in(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    """The check-in (GET: where the booking stands, read and logged; POST: check in, which the
    service logs; a second POST changes nothing and shows the same receipt)."""
    message = ""
    if request.method == "POST":
        try:
            checkin.booking_check_in(booking_id=booking_id, via=ArrivalVia.PHONE, by_patient=request.patient)
        except checkin.CheckInRefused as refused:
            message = str(refused)
        else:
            return redirect("booking:check_in", booking_id=booking_id)
    booking = selectors.booking_for_reader(reader=request.patient, booking_id=booking_id)
    state = checkin.check_in_state(booking, now=timezone.now())
    context: dict[str, Any] = {"booking": booking, "state": state, "message": message}
    if state.arrival is not None:
        paid = checkin.receipt_of(booking, state.arrival)
        context.update(paid=paid, pay_url=pay_url(paid.fee_id))
    return render(request, "booking/check_in.html", context, status=400 if message else 200)


@patient_required
@require_POST
def earlier_ask(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Put the booking on the waiting list for an earlier time (the service is the door and logs it;
    asking twice is asking once)."""
    try:
        offers.earlier_time_request_create(
            booking_id=booking_id,
            actor=request.patient,
            same_practitioner=request.POST.get("same_practitioner") == "on",
        )
    except BookingRefused as refused:
        return _refused(request, refused)
    messages.success(request, _("You are on the waiting list. We will tell you when an earlier time is free."))
    return redirect("booking:detail", booking_id=booking_id)


@patient_required
@require_POST
def earlier_withdraw(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    offers.earlier_time_request_withdraw(booking_id=booking_id, actor=request.patient)
    messages.success(request, _("You are no longer waiting for an earlier time. The appointment is as it was."))
    return redirect("booking:detail", booking_id=booking_id)


@patient_required
@require_POST
@waiting_room
def offer_claim(request: PatientRequest, offer_id: uuid.UUID) -> HttpResponse:
    """Take the offered earlier time: the booking moves to it (a double click moves it once)."""
    try:
        moved = offers.earlier_time_offer_claim(offer_id=offer_id, actor=request.patient)
    except BookingRefused as refused:
        return _refused(request, refused)
    messages.success(request, _("The appointment is moved to the earlier time."))
    return redirect("booking:detail", booking_id=moved.pk)


@patient_required
@require_http_methods(["GET", "POST"])
def cancel(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Asks (GET: the booking is read), then cancels (POST: the service is the door, and logs the
    cancellation, not a read)."""
    if request.method == "POST":
        try:
            services.booking_cancel(booking_id=booking_id, by_patient=request.patient)
        except BookingRefused as refused:
            return _refused(request, refused)
        messages.success(request, _("The appointment is cancelled."))
        return redirect("booking:mine")
    booking = selectors.booking_for_reader(reader=request.patient, booking_id=booking_id)
    return render(
        request, "booking/cancel.html", {"booking": booking, **selectors.what_may_change(booking, now=timezone.now())}
    )


@patient_required
@require_http_methods(["GET", "POST"])
@waiting_room
def rebook(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    """Offers times (GET: the booking is read), then moves it (POST: the service is the door and
    logs the move; a double click moves once and logs once)."""
    if request.method == "POST":
        key = request.POST.get("submission_key", "")[:64]
        try:
            moved = services.booking_move_online(
                booking_id=booking_id,
                new_slot_id=_uuid(request.POST.get("slot", "")),
                actor=request.patient,
                idempotency_key=services.submission_key("rebook", booking_id, request.POST.get("slot", ""), key)
                if key
                else None,
            )
        except BookingRefused as refused:
            return _refused(request, refused)
        messages.success(request, _("The appointment is moved."))
        return redirect("booking:detail", booking_id=moved.pk)
    booking = selectors.booking_for_reader(reader=request.patient, booking_id=booking_id)
    may = selectors.what_may_change(booking, now=timezone.now())
    slots = selectors.rebooking_slots(booking) if may["may_rebook"] else []
    chosen = next((slot for slot in slots if str(slot.pk) == request.GET.get("slot")), None)
    if chosen is not None:
        # "Move here" asks first: the old time and the new, side by side, and one button to move.
        context = {"booking": booking, "new_slot": chosen, "submission_key": uuid.uuid4().hex}
        return render(request, "booking/rebook_confirm.html", context)
    context = {"booking": booking, "days": _by_day(slots), **may}
    return render(request, "booking/rebook.html", context)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.UUID(int=0))  # finds no slot: refused as not the same kind


@patient_required
@require_GET
def booking_ics(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    ics = calendar.booking_file(reader=request.patient, booking_id=booking_id)
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="besok.ics"'
    return response


@patient_required
@require_http_methods(["GET", "POST"])
def calendar_feed_settings(request: PatientRequest) -> HttpResponse:
    """The person's own calendar links: each with what it tells and until when; any can be revoked."""
    me = request.patient
    if request.method == "POST":
        calendar.feed_revoke(owner=me, feed_id=request.POST.get("feed", "")[:40])
        messages.success(request, _("The calendar link no longer works."))
        return redirect("booking:calendar_settings")
    return render(request, "booking/calendar_settings.html", {"feeds": calendar.feeds_of(me)})


@patient_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def calendar_feed_new(request: PatientRequest) -> HttpResponse:
    """A new calendar link, after a fresh e-ID login: the choice of content (the time and
    "Vårdbesök" only, unless the person asks for details), then the link, shown once."""
    me = request.patient
    if request.method != "POST":
        stash = getattr(request, "stepup_stash", None) or {}
        context = {"detailed": stash.get("content") == "details", "form_key": uuid.uuid4()}
        return render(request, "booking/calendar_new.html", context)
    detailed = request.POST.get("content") == "details"
    made = calendar.feed_create(owner=me, detailed=detailed, form_key=request.POST.get("form_key", "")[:40])
    url = request.build_absolute_uri(calendar.feed_path(made.token))
    context = {"feed": made.feed, "url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}
    return render(request, "booking/calendar_made.html", context)


@public
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The unguessable link a calendar app polls: the person's and their dependants' bookings."""
    feed = calendar.feed_by_token(token)
    if feed is None:
        return HttpResponse(status=404)
    return HttpResponse(feed, content_type="text/calendar; charset=utf-8")
