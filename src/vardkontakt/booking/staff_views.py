"""Tidbok online, the unit's side: the appointment book, booking on a patient's behalf by phone,
and the set-up (rules, visit types, weekly schedules, absences) for unit administrators."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.booking import checkin, coverage, policy, services, staff_selectors, staff_services
from vardkontakt.booking.models import Booking
from vardkontakt.booking.schedule import settings_of
from vardkontakt.booking.services import BookingRefused, Refusal
from vardkontakt.booking.staff_forms import (
    UNKNOWN_PATIENT,
    BookingSettingsForm,
    DayOffForm,
    ExceptionForm,
    OverbookForm,
    StaffBookForm,
    TemplateForm,
    VisitTypeForm,
)
from vardkontakt.booking.staff_selectors import BookSlot
from vardkontakt.core.calendar import STOCKHOLM, day_off_name
from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit


def _book_url(unit: CareUnit, day: dt.date, view: str = "day") -> str:
    query = urlencode({"date": day.isoformat(), "view": view})
    return f"{reverse('booking_staff:book', kwargs={'unit_id': unit.id})}?{query}"


def _day_of(value: str) -> dt.date:
    """The day asked for; today for anything unreadable or absurd (year 1 has no day before it)."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()
    return day if dt.date(2000, 1, 1) <= day <= dt.date(2100, 1, 1) else timezone.localdate()


# --- the appointment book ------------------------------------------------------------------------


@staff_required
@require_GET
def book(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    found = staff_selectors.appointment_book(
        staff=me, unit=unit, day=_day_of(request.GET.get("date", "")), view=request.GET.get("view", "day")
    )
    today = timezone.localdate()
    context = {
        "book": found,
        "unit": unit,
        "today": today,
        "may_set_up": policy.staff_may_set_up(me, unit),
        # Today's day list shows arrivals as they happen (static/vardkontakt/js/arrivals.js).
        "live_url": (
            f"{reverse('booking_staff:arrivals', kwargs={'unit_id': unit.id})}?date={today.isoformat()}"
            if found.view == "day" and found.first_day == today
            else ""
        ),
    }
    return render(request, "booking/staff/book.html", context)


@staff_required
@require_GET
def arrivals(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """Who has arrived for the day's bookings, by booking id and time (no names): the live book."""
    unit = staff_selectors.unit_for_book(staff=request.staff, unit_id=unit_id)
    day = _day_of(request.GET.get("date", ""))
    return JsonResponse({"arrivals": checkin.arrival_times(unit_id=unit.pk, day=day)})


@staff_required
@require_POST
def mark_missed(request: StaffRequest, unit_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    """The patient did not come: the visit is marked missed (with the missed-visit fee when due)."""
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    booking = staff_selectors.booking_for_staff(staff=me, unit=unit, booking_id=booking_id)
    day = booking.slot.starts_at.astimezone(STOCKHOLM).date()
    try:
        checkin.booking_mark_missed(booking_id=booking.pk, staff=me)
    except checkin.CheckInRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(name)s's visit is marked as missed.") % {"name": booking.patient.full_name})
    return redirect(_book_url(unit, day))


@staff_required
@require_POST
def undo_missed(request: StaffRequest, unit_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    booking = staff_selectors.booking_for_staff(staff=me, unit=unit, booking_id=booking_id)
    day = booking.slot.starts_at.astimezone(STOCKHOLM).date()
    try:
        checkin.booking_unmark_missed(booking_id=booking.pk, staff=me)
    except checkin.CheckInRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The missed visit is undone, and its fee with it."))
    return redirect(_book_url(unit, day))


def _slot_page(
    request: HttpRequest,
    unit: CareUnit,
    found: BookSlot,
    form: StaffBookForm | None = None,
    *,
    status: int = 200,
    refused: BookingRefused | None = None,
    check: Patient | None = None,
) -> HttpResponse:
    """The time and its bookings, with the form that fits it now: book it, or overbook it (taken);
    with ``check``, the patient found for the number typed, to confirm before booking."""
    replace = found.staff_may_overbook and not form.errors and not isinstance(form, OverbookForm) if form else True
    if check is None and replace:
        # A time taken meanwhile offers the overbooking form, keeping the number typed.
        initial = {"submission_key": uuid.uuid4().hex}
        if form is not None:
            initial["personnummer"] = form.data.get("personnummer", "")
        form = OverbookForm(initial=initial) if found.staff_may_overbook else StaffBookForm(initial=initial)
    day = found.slot.starts_at.astimezone(STOCKHOLM).date()
    context = {
        "unit": unit,
        "found": found,
        "slot": found.slot,
        "form": form,
        "back": _book_url(unit, day),
        "overbooking": isinstance(form, OverbookForm),
        "refusal": str(refused) if refused else "",
        "alternatives": refused.alternatives if refused else [],
        "check": check,
        "may_release": found.staff_may_release,
    }
    return render(request, "booking/staff/slot.html", context, status=status)


def _check_or_book(
    request: StaffRequest, unit: CareUnit, form: StaffBookForm, found: BookSlot, reason: str
) -> HttpResponse:
    """First the patient's name for the number typed ("stämmer det?"), then, confirmed, the booking."""
    # A time staff may not book now (kept for patients, passed) goes straight to the service, which
    # says why; only a time that can be booked asks for the patient first.
    fits = found.staff_may_overbook if reason else found.staff_may_book
    confirming = request.POST.get("confirm") == "yes" or not fits
    patient = staff_selectors.patient_for_phone_booking(
        staff=request.staff, unit=unit, personnummer=form.cleaned_data["personnummer"], confirming=confirming
    )
    if patient is None:
        form.add_error("personnummer", UNKNOWN_PATIENT)
        return _slot_page(request, unit, found, form, status=400)
    if not confirming:
        return _slot_page(request, unit, found, form, check=patient)
    return _booked(request, unit, form, found, patient, reason)


def _reminder_said(booking: Booking, hours: int) -> str:
    if booking.sms_reminder:
        return ngettext(
            "An SMS reminder will be sent %(hours)d hour before.",
            "An SMS reminder will be sent %(hours)d hours before.",
            hours,
        ) % {"hours": hours}
    if not booking.patient.mobile:
        return _("No SMS reminder will be sent: the patient has no mobile number.")
    return _("No SMS reminder will be sent.")


def _booked(
    request: StaffRequest, unit: CareUnit, form: StaffBookForm, found: BookSlot, patient: Patient, reason: str
) -> HttpResponse:
    me = request.staff
    try:
        key = form.cleaned_data["submission_key"]
        booking = services.booking_create_by_staff(
            slot_id=found.slot.pk,
            unit=unit,
            patient=patient,
            staff=me,
            sms_reminder=form.cleaned_data["sms_reminder"],
            overbook_reason=reason,
            idempotency_key=services.submission_key("staff", me.pk, patient.pk, found.slot.pk, key) if key else None,
        ).booking
    except BookingRefused as refused:
        # Nothing changed: the page as it is now, the refusal in words, what was typed kept.
        found = staff_selectors.slot_for_staff(staff=me, unit=unit, slot_id=found.slot.pk)
        status = 409 if refused.refusal is Refusal.TAKEN else 400
        return _slot_page(request, unit, found, form, status=status, refused=refused)
    text = _("The time is overbooked for %(name)s.") if booking.overbooked else _("The time is booked for %(name)s.")
    said = _reminder_said(booking, settings_of(unit).reminder_hours)
    messages.success(request, text % {"name": booking.patient.full_name} + " " + said)
    return redirect(_book_url(unit, booking.slot.starts_at.astimezone(STOCKHOLM).date()))


@staff_required
@require_http_methods(["GET", "POST"])
def slot(request: StaffRequest, unit_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    """One time: its bookings, and the phone booking form (GET shows it, POST books)."""
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    found = staff_selectors.slot_for_staff(staff=me, unit=unit, slot_id=slot_id)
    if request.method != "POST":
        return _slot_page(request, unit, found)
    form = StaffBookForm(request.POST)
    if not form.is_valid():
        return _slot_page(request, unit, found, form, status=400)
    return _check_or_book(request, unit, form, found, reason="")


@staff_required
@require_POST
def overbook(request: StaffRequest, unit_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    """A second patient in a taken time: a separate form that will not go without a reason."""
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    found = staff_selectors.slot_for_staff(staff=me, unit=unit, slot_id=slot_id)
    form = OverbookForm(request.POST)
    if not form.is_valid():
        return _slot_page(request, unit, found, form, status=400)
    return _check_or_book(request, unit, form, found, reason=form.cleaned_data["reason"])


@staff_required
@require_POST
def release(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """Phone-only times opened to web booking by hand: one time (``slot``) or a whole day (``day``).
    The weekly blocks stay as they are; only these times change."""
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    slot_id, day = request.POST.get("slot", "")[:40], request.POST.get("day", "")[:10]
    # "phone": times kept for patients released to phone booking early; else phone-only times to the web.
    to_phone = request.POST.get("to") == "phone"
    release = staff_services.slots_release_to_staff if to_phone else staff_services.slots_release_online
    if slot_id:
        found = staff_selectors.slot_for_staff(staff=me, unit=unit, slot_id=_uuid_or_404(slot_id))
        released = release(unit=unit, by=me, slot=found.slot)
        back = _book_url(unit, found.slot.starts_at.astimezone(STOCKHOLM).date())
    else:
        chosen = _day_of(day)
        released = release(unit=unit, by=me, day=chosen)
        back = _book_url(unit, chosen)
    if to_phone:
        if released:
            text = ngettext(
                "%(count)d time may be booked by phone now.", "%(count)d times may be booked by phone now.", released
            )
            messages.success(request, text % {"count": released})
        else:
            messages.info(request, _("No free time kept for patients could be released for phone booking."))
    elif released:
        messages.success(
            request,
            ngettext("%(count)d time is open for web booking.", "%(count)d times are open for web booking.", released)
            % {"count": released},
        )
    else:
        messages.info(request, _("No free phone-only time could be opened for web booking."))
    return redirect(back)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


@staff_required
@require_http_methods(["GET", "POST"])
def cancel(request: StaffRequest, unit_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    booking = staff_selectors.booking_for_staff(staff=me, unit=unit, booking_id=booking_id)
    day = booking.slot.starts_at.astimezone(STOCKHOLM).date()
    if request.method == "POST":
        try:
            services.booking_cancel(booking_id=booking.pk, by_staff=me)
        except BookingRefused as refused:
            messages.error(request, str(refused))
            return redirect(_book_url(unit, day))
        messages.success(request, _("The booking of %(name)s is cancelled.") % {"name": booking.patient.full_name})
        return redirect(_book_url(unit, day))
    return render(
        request, "booking/staff/cancel.html", {"unit": unit, "booking": booking, "back": _book_url(unit, day)}
    )


@staff_required
@require_GET
def waiting_list(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """Who waits for an earlier time, per visit type, in order of asking, and what each is offered."""
    me = request.staff
    unit = staff_selectors.unit_for_book(staff=me, unit_id=unit_id)
    found = staff_selectors.waiting_list_for_staff(
        staff=me, unit=unit, visit_type_id=request.GET.get("visit_type", "")[:40]
    )
    context = {"unit": unit, "found": found, "rules": settings_of(unit), "now": timezone.now()}
    return render(request, "booking/staff/waiting_list.html", context)


# --- the set-up ------------------------------------------------------------------------------------


def _setup_url(unit: CareUnit) -> str:
    return reverse("booking_staff:setup", kwargs={"unit_id": unit.id})


@staff_required
@require_http_methods(["GET", "POST"])
def setup(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """The one place a unit administrator sets up the book; its form is the unit's booking rules."""
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    rules = settings_of(unit)
    posted = request.method == "POST"
    form = BookingSettingsForm(request.POST if posted else None, initial=BookingSettingsForm.initial_of(rules))
    if posted and _saved(form, lambda data: staff_services.booking_settings_update(unit=unit, by=me, **data)):
        messages.success(request, _("The booking rules are saved."))
        return redirect(_setup_url(unit))
    return _setup_page(request, unit, form=form, status=400 if posted else 200)


def _setup_page(
    request: HttpRequest,
    unit: CareUnit,
    *,
    form: BookingSettingsForm | None = None,
    day_off_form: DayOffForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rules = settings_of(unit)
    days_off = staff_selectors.days_off_of(unit)
    context = {
        "unit": unit,
        "form": form or BookingSettingsForm(initial=BookingSettingsForm.initial_of(rules)),
        "day_off_form": day_off_form,
        "visit_types": staff_selectors.visit_types_of(unit),
        "templates": [(block, WEEKDAYS[block.weekday]) for block in staff_selectors.templates_of(unit)],
        "exceptions": staff_selectors.exceptions_of(unit),
        "days_off": days_off,
        "flagged_days_off": [day for day in days_off if day.flagged],
        "rules": rules,
    }
    return render(request, "booking/staff/setup.html", context, status=status)


def _saved(form: Any, save: Callable[[dict[str, Any]], Any]) -> bool:
    """A valid form goes to its service; the service's ValidationError lands on the form's fields
    (nothing is saved then)."""
    if not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


def _form_page(request: HttpRequest, unit: CareUnit, form: Any, *, title: str, posted: bool) -> HttpResponse:
    context = {"unit": unit, "form": form, "title": title, "back": _setup_url(unit)}
    return render(request, "booking/staff/setup_form.html", context, status=400 if posted else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def visit_type_new(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    posted = request.method == "POST"
    form = VisitTypeForm(request.POST if posted else None, unit=unit)
    if posted and _saved(form, lambda data: staff_services.visit_type_create(unit=unit, by=me, **data)):
        messages.success(request, _("The visit type is saved."))
        return redirect(_setup_url(unit))
    return _form_page(request, unit, form, title=_("New visit type"), posted=posted)


@staff_required
@require_http_methods(["GET", "POST"])
def visit_type_edit(request: StaffRequest, unit_id: uuid.UUID, visit_type_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    visit_type = staff_selectors.visit_type_to_edit(unit=unit, visit_type_id=visit_type_id)
    posted = request.method == "POST"
    form = VisitTypeForm(
        request.POST if posted else None, unit=unit, current=visit_type, initial=VisitTypeForm.initial_of(visit_type)
    )
    if posted and _saved(form, lambda data: staff_services.visit_type_update(visit_type=visit_type, by=me, **data)):
        messages.success(request, _("The visit type is saved."))
        return redirect(_setup_url(unit))
    return _form_page(request, unit, form, title=visit_type.name, posted=posted)


@staff_required
@require_http_methods(["GET", "POST"])
def template_new(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    posted = request.method == "POST"
    form = TemplateForm(request.POST if posted else None, unit=unit)
    if posted and _saved(form, lambda data: staff_services.schedule_template_create(unit=unit, by=me, **data)):
        messages.success(request, _("The block is added to the weekly schedule. Roll the schedule to make its times."))
        return redirect(_setup_url(unit))
    return _form_page(request, unit, form, title=_("New block in the weekly schedule"), posted=posted)


def _cleared_message(cleared: staff_services.Cleared) -> str:
    text = ngettext(
        "%(count)d free time was taken out of the book.",
        "%(count)d free times were taken out of the book.",
        cleared.removed,
    ) % {"count": cleared.removed}
    if cleared.kept_booked:
        text += " " + ngettext(
            "%(count)d booked time is kept: contact the patient.",
            "%(count)d booked times are kept: contact the patients.",
            cleared.kept_booked,
        ) % {"count": cleared.kept_booked}
    return text


@staff_required
@require_POST
def template_delete(request: StaffRequest, unit_id: uuid.UUID, template_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    template = staff_selectors.template_to_delete(unit=unit, template_id=template_id)
    cleared = staff_services.schedule_template_delete(template=template, by=me)
    messages.success(request, _("The block is removed.") + " " + _cleared_message(cleared))
    return redirect(_setup_url(unit))


@staff_required
@require_http_methods(["GET", "POST"])
def exception_new(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    posted = request.method == "POST"
    form = ExceptionForm(request.POST if posted else None, unit=unit)
    result: list[staff_services.Cleared] = []

    def save(data: dict[str, Any]) -> None:
        result.append(staff_services.schedule_exception_create(unit=unit, by=me, **data)[1])

    if posted and _saved(form, save):
        messages.success(request, _("The absence is saved.") + " " + _cleared_message(result[0]))
        return redirect(_setup_url(unit))
    return _form_page(request, unit, form, title=_("New absence"), posted=posted)


@staff_required
@require_POST
def exception_delete(request: StaffRequest, unit_id: uuid.UUID, exception_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    exception = staff_selectors.exception_to_delete(unit=unit, exception_id=exception_id)
    staff_services.schedule_exception_delete(exception=exception, by=me)
    messages.success(request, _("The absence is removed. Roll the schedule to fill its time again."))
    return redirect(_setup_url(unit))


@staff_required
@require_POST
def roll(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    generated = staff_services.schedule_roll(unit=unit, by=me)
    messages.success(
        request,
        ngettext(
            "The schedule is rolled: %(count)d new time in the book.",
            "The schedule is rolled: %(count)d new times in the book.",
            generated.created,
        )
        % {"count": generated.created},
    )
    return redirect(_setup_url(unit))


@staff_required
@require_POST
def day_off(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """Open the book on a public holiday or day off, or keep it closed (taking out its free times)."""
    me = request.staff
    unit = staff_selectors.unit_for_setup(staff=me, unit_id=unit_id)
    form = DayOffForm(request.POST)
    result: list[Any] = []

    def save(data: dict[str, Any]) -> None:
        if data["action"] == "open":
            result.append(staff_services.day_off_open(unit=unit, by=me, day=data["day"]))
        else:
            result.append(staff_services.day_off_close(unit=unit, by=me, day=data["day"]))

    if not _saved(form, save):
        return _setup_page(request, unit, day_off_form=form, status=400)
    name = day_off_name(form.cleaned_data["day"])
    if form.cleaned_data["action"] == "open":
        text = ngettext(
            "The book is open on %(day)s: %(count)d new time.",
            "The book is open on %(day)s: %(count)d new times.",
            result[0].created,
        ) % {"day": name, "count": result[0].created}
    else:
        text = _("The book is closed on %(day)s.") % {"day": name} + " " + _cleared_message(result[0])
    messages.success(request, text)
    return redirect(_setup_url(unit) + "#days-off")


@staff_required
@require_GET
def coverage_page(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = staff_selectors.unit_for_setup(staff=request.staff, unit_id=unit_id)
    weeks = coverage.unit_coverage(unit)
    context = {
        "unit": unit,
        "weeks": weeks,
        "target": unit.administration.region.booking_target_percent,
        "back": _setup_url(unit),
        "flagged_days_off": [day for day in staff_selectors.days_off_of(unit) if day.flagged],
    }
    return render(request, "booking/staff/coverage.html", context)
