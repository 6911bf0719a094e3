"""Forms of the unit's side of the appointment book: the set-up, and booking on a patient's behalf.

The forms check what a person typed (numbers in range, an end after the start) and say so in
words; the services check it again with what only the database knows (a name already used, a
block overlapping another) and their errors land on the same fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from vardkontakt.booking.models import BookingSettings, Channel, ExceptionReason, HeldBack, VisitType
from vardkontakt.booking.policy import profession_refusal
from vardkontakt.booking.services import Refusal
from vardkontakt.fees.models import FeeKind
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.organisation.models import CareUnit
from vardkontakt.organisation.selectors import unit_members

UNKNOWN_PATIENT = _("No patient with this number is registered here.")
SHORTEST_VISIT_MINUTES = 5  # as the database's check constraint on VisitType
LONGEST_VISIT_MINUTES = 8 * 60


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class DateTimeInput(forms.DateTimeInput):
    """The browser's own date-and-time picker; the value is read as Stockholm time."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class BookingSettingsForm(forms.Form):
    horizon_weeks = forms.TypedChoiceField(
        label=_("Weeks of schedule ahead"),
        coerce=int,
        choices=[(8, _("8 weeks")), (12, _("12 weeks"))],
        widget=forms.RadioSelect,
        help_text=_("The schedule rolls forward every week this far ahead."),
    )
    release_hours = forms.IntegerField(
        label=_("Staff may book online times from (hours before the start)"),
        validators=[MinValueValidator(0), MaxValueValidator(14 * 24)],
        help_text=_("Until then a time published online is kept for patients. The region's rule is 48 hours."),
    )
    reminder_hours = forms.IntegerField(
        label=_("Send the SMS reminder (hours before the start)"),
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24)],
    )
    online_bookings_per_visit_type = forms.IntegerField(
        label=_("Coming web bookings of one visit type per patient"),
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        initial=1,
        required=False,
        help_text=_("Patients are told before they choose a time. Bookings the unit makes by phone do not count."),
    )
    offer_claim_hours = forms.IntegerField(
        label=_("Hours to take an offered earlier time"),
        validators=[MinValueValidator(1), MaxValueValidator(48)],
        initial=2,
        required=False,
        help_text=_(
            "A freed time is held this long for the first on the waiting list (never past its start); "
            "then it is offered to the next."
        ),
    )
    checkin_opens_minutes = forms.IntegerField(
        label=_("Check-in opens (minutes before the start)"),
        validators=[MinValueValidator(0), MaxValueValidator(240)],
        initial=30,
        required=False,
        help_text=_("By phone and at the kiosk, on the day of the visit. Default: 30 minutes."),
    )
    checkin_closes_minutes = forms.IntegerField(
        label=_("Check-in closes (minutes after the start)"),
        validators=[MinValueValidator(0), MaxValueValidator(120)],
        initial=15,
        required=False,
        help_text=_("Default: 15 minutes."),
    )
    missed_after_minutes = forms.IntegerField(
        label=_("A visit may be marked missed (minutes after the start)"),
        validators=[MinValueValidator(0), MaxValueValidator(240)],
        initial=15,
        required=False,
        help_text=_("Until then staff wait for a patient who has not checked in. Default: 15 minutes."),
    )
    video_join_minutes = forms.IntegerField(
        label=_("Video visits: the waiting room opens (minutes before the start)"),
        validators=[MinValueValidator(5), MaxValueValidator(60)],
        initial=15,
        required=False,
        help_text=_("From then the patient can test their camera and microphone and wait to be let in."),
    )
    terms_text = forms.CharField(
        label=_("Terms shown before booking"),
        required=False,
        max_length=3000,
        widget=forms.Textarea,
        help_text=_("Write plainly, e.g. when not to book online and where to turn instead."),
    )
    self_assessment_url = forms.URLField(
        label=_("Link to a self-assessment"),
        required=False,
        assume_scheme="https",
        help_text=_("Where patients can find out which level of care they need."),
    )

    def clean_online_bookings_per_visit_type(self) -> int:
        return self.cleaned_data.get("online_bookings_per_visit_type") or 1  # empty: the default, one

    def clean_offer_claim_hours(self) -> int:
        return self.cleaned_data.get("offer_claim_hours") or 2  # empty: the default, two hours

    def _or_default(self, name: str, default: int) -> int:
        value = self.cleaned_data.get(name)
        return default if value is None else int(value)  # empty: the default (0 is a choice)

    def clean_checkin_opens_minutes(self) -> int:
        return self._or_default("checkin_opens_minutes", 30)

    def clean_checkin_closes_minutes(self) -> int:
        return self._or_default("checkin_closes_minutes", 15)

    def clean_missed_after_minutes(self) -> int:
        return self._or_default("missed_after_minutes", 15)

    def clean_video_join_minutes(self) -> int:
        return self.cleaned_data.get("video_join_minutes") or 15  # empty: the default, 15 minutes

    @classmethod
    def initial_of(cls, rules: BookingSettings) -> dict[str, Any]:
        return {name: getattr(rules, name) for name in cls.base_fields}


class VisitTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("As patients will see it, e.g. “Hälsosamtal”."))
    name_en = forms.CharField(
        label=_("Name in English"),
        max_length=120,
        required=False,
        help_text=_("Shown to residents who read in English. Leave it empty to show the Swedish name."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"),
        validators=[MinValueValidator(SHORTEST_VISIT_MINUTES), MaxValueValidator(LONGEST_VISIT_MINUTES)],
        error_messages={"min_value": _("A visit is at least 5 minutes long.")},
    )
    professions = forms.MultipleChoiceField(
        label=_("Professions that may hold the visit"),
        choices=Profession.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only a practitioner of these professions can have a block of this visit type."),
        error_messages={"required": _("Choose at least one profession that may hold the visit.")},
    )
    bookable_online = forms.BooleanField(label=_("Patients may book it online"), required=False)
    rebookable_online = forms.BooleanField(label=_("Patients may move it online"), required=False)
    cancellation_deadline_hours = forms.IntegerField(
        label=_("Patients may cancel online up to (hours before)"),
        validators=[MinValueValidator(0), MaxValueValidator(14 * 24)],
        initial=24,
    )
    fee_kronor = forms.IntegerField(
        label=_("Patient fee (kronor)"),
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        initial=0,
        required=False,
        help_text=_("Shown before booking; 0 is shown as free of charge."),
    )
    fee_kind = forms.ChoiceField(
        label=_("Fee from the region's schedule"),
        choices=[("", _("None: show the fee above")), *FeeKind.choices],
        required=False,
        help_text=_(
            "When chosen, residents see the region's fee for the day of the visit, with their age and frikort."
        ),
    )
    video = forms.BooleanField(
        label=_("Video visit"),
        required=False,
        help_text=_("Held over video: the patient joins from the booking, through a waiting room."),
    )
    active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_("A visit type no longer in use gets no new times and cannot be booked online."),
    )

    def __init__(self, *args: Any, unit: CareUnit, current: VisitType | None = None, **kwargs: Any) -> None:
        self.unit = unit
        self.current = current
        super().__init__(*args, **kwargs)

    def clean_fee_kronor(self) -> int:
        return self.cleaned_data.get("fee_kronor") or 0  # empty: no fee

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        same = VisitType.objects.filter(unit=self.unit, name__iexact=name)
        if self.current is not None:
            same = same.exclude(pk=self.current.pk)
        if same.exists():
            raise ValidationError(_("The unit already has a visit type with this name."), code="unique")
        return name

    def clean_name_en(self) -> str:
        return " ".join(self.cleaned_data["name_en"].split())

    @classmethod
    def initial_of(cls, visit_type: VisitType) -> dict[str, Any]:
        return {name: getattr(visit_type, name) for name in cls.base_fields}


class PractitionerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name}, {obj.get_profession_display()}"


def _members(unit: CareUnit) -> Any:
    return Staff.objects.filter(pk__in=unit_members(unit)).order_by("family_name", "given_name")


class TemplateForm(forms.Form):
    practitioner = PractitionerField(label=_("Practitioner"), queryset=Staff.objects.none(), empty_label=None)
    visit_type = forms.ModelChoiceField(label=_("Visit type"), queryset=VisitType.objects.none(), empty_label=None)
    weekday = forms.TypedChoiceField(label=_("Weekday"), coerce=int, choices=sorted(WEEKDAYS.items()))
    start_time = forms.TimeField(label=_("From"), widget=TimeInput())
    end_time = forms.TimeField(label=_("To"), widget=TimeInput())
    place = forms.CharField(label=_("Place"), max_length=120, help_text=_("The room or the address patients go to."))
    channel = forms.ChoiceField(
        label=_("Who may book the times"),
        choices=[
            (Channel.ONLINE_AND_PHONE, _("Patients online, and staff by phone")),
            (Channel.PHONE_ONLY, _("Only staff, by phone")),
        ],
        widget=forms.RadioSelect,
        initial=Channel.ONLINE_AND_PHONE,
    )
    held_back = forms.ChoiceField(
        label=_("Held back from online booking"),
        required=False,
        choices=[("", _("No, publish the times")), *[(value, label) for value, label in HeldBack.choices if value]],
        help_text=_("Series bookings, co-planned visits and times kept for medical reasons are not published."),
    )

    def __init__(self, *args: Any, unit: CareUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _members(unit)  # type: ignore[attr-defined]
        self.fields["visit_type"].queryset = unit.visit_types.filter(active=True).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, visit = data.get("start_time"), data.get("end_time"), data.get("visit_type")
        practitioner = data.get("practitioner")
        if practitioner and visit and not visit.may_be_held_by(practitioner):
            self.add_error("practitioner", profession_refusal(practitioner, visit))
        if start and end and end <= start:
            self.add_error("end_time", _("The block must end after it starts."))
        elif start and end and visit:
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            if minutes < visit.duration_minutes:
                self.add_error("end_time", _("The block is shorter than one visit of this type."))
        return data


class ExceptionForm(forms.Form):
    practitioner = PractitionerField(label=_("Practitioner"), queryset=Staff.objects.none(), empty_label=None)
    reason = forms.ChoiceField(label=_("Reason"), choices=ExceptionReason.choices)
    starts_at = forms.DateTimeField(label=_("From"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("To"), widget=DateTimeInput())

    def __init__(self, *args: Any, unit: CareUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _members(unit)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("The absence must end after it starts."))
        return data


class StaffBookForm(forms.Form):
    """Booking on a patient's behalf: who, and whether they want a text message reminder."""

    personnummer = forms.CharField(
        label=_("The patient's personal identity number"),
        max_length=20,
        help_text=_("12 digits, e.g. 19121212-1212."),
        error_messages={"required": _("Enter the patient's personal identity number.")},
    )
    sms_reminder = forms.BooleanField(
        label=_("Send an SMS reminder"),
        required=False,
        help_text=_("To the mobile number in the patient's settings. It says only the time."),
    )
    submission_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def clean_personnummer(self) -> str:
        """The number, normalised; whether such a patient exists is the staff selector's question
        (staff_selectors.patient_for_phone_booking), which logs the look-up."""
        try:
            return normalise_personnummer(self.cleaned_data["personnummer"])
        except ValidationError as error:
            if error.code == "samordningsnummer":
                raise ValidationError(UNKNOWN_PATIENT, code="unknown") from None
            raise


class OverbookForm(StaffBookForm):
    """Booking a time that is already taken: only on purpose, with the reason written down."""

    reason = forms.CharField(
        label=_("Why the time is overbooked"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": Refusal.OVERBOOK_REASON.value},
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise ValidationError(Refusal.OVERBOOK_REASON.value, code="required")
        return reason


class DayOffForm(forms.Form):
    """Open the book on a public holiday or day off, or close it again (the default)."""

    day = forms.DateField(
        label=_("Day"), error_messages={"required": _("Choose a day."), "invalid": _("Choose a day.")}
    )
    action = forms.ChoiceField(
        choices=[("open", _("Open the book this day")), ("close", _("Keep the book closed this day"))],
        error_messages={
            "required": _("Choose whether to open or close the day."),
            "invalid_choice": _("Choose whether to open or close the day."),
        },
    )
