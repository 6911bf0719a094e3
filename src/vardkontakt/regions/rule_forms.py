"""The region's rules page: each rule with its default (the seed's value) and, where the law sets
a bound, a note saying which. The bounds are checked here; the service stores what passed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.organisation.models import UnitKind
from vardkontakt.records.publishing import NEVER_PUBLISHED_KINDS

# Rules kept on the Region row and on its RecordRules row, by form field name.
REGION_FIELDS = (
    "service_name",
    "staff_service_name",
    "support_phone",
    "support_email",
    "support_opens",
    "support_closes",
    "guardian_access_until_age",
    "own_record_from_age",
    "booking_target_percent",
    "booking_target_weeks",
    "onboarding_target_days",
)
RECORD_FIELDS = ("notes_from", "adult_psychiatry_notes_from", "extra_withheld_kinds", "harm_assessment_for_new_units")
# Youth clinics are withheld from those under 18 by the national rules, and may be withheld for all.
OPTIONAL_KINDS = [(value, label) for value, label in UnitKind.choices if value not in NEVER_PUBLISHED_KINDS]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class RegionRulesForm(forms.Form):
    service_name = forms.CharField(
        label=_("Service name for residents"),
        max_length=100,
        required=False,
        help_text=_("Default: the product's name. The seed's region calls it “1177 Vårdguidens e-tjänster”."),
    )
    staff_service_name = forms.CharField(
        label=_("Service name for staff"),
        max_length=100,
        required=False,
        help_text=_("Default: the same as for residents. The seed's region kept “Mina vårdkontakter” for staff."),
    )
    support_phone = forms.CharField(label=_("Support phone"), max_length=30, required=False)
    support_email = forms.EmailField(label=_("Support e-mail"), required=False)
    support_opens = forms.TimeField(
        label=_("Support opens (weekdays)"), widget=TimeInput(), help_text=_("Default: 06:00 (the seed's hours).")
    )
    support_closes = forms.TimeField(
        label=_("Support closes (weekdays)"), widget=TimeInput(), help_text=_("Default: 22:00 (the seed's hours).")
    )
    guardian_access_until_age = forms.IntegerField(
        label=_("Guardians act for a child until this age"),
        help_text=_(
            "Default: 13 (guardians see the record of a child under 13). Bound by law: at most 18, when "
            "guardianship ends (Föräldrabalken 6:2), and not past the age the child reads their own record."
        ),
    )
    own_record_from_age = forms.IntegerField(
        label=_("Residents read their own record from this age"),
        help_text=_(
            "Default: 18 (from 13 to 18 neither the guardian nor the child reads the record). Many regions use "
            "16. Bound: between 13 and 18; an adult always reads their own record (Patientdatalagen 8:1)."
        ),
    )
    notes_from = forms.DateField(
        label=_("Notes shown from"),
        widget=DateInput(),
        help_text=_("Default: 2014-09-01. Older notes are requested on paper."),
    )
    adult_psychiatry_notes_from = forms.DateField(
        label=_("Adult psychiatry notes shown from"),
        widget=DateInput(),
        help_text=_("Default: 2015-09-28. Not before the date notes are shown from."),
    )
    extra_withheld_kinds = forms.MultipleChoiceField(
        label=_("Further kinds of unit whose record is never shown"),
        choices=OPTIONAL_KINDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Default: none. Bound by the national rules: child and adolescent psychiatry, forensic psychiatry, "
            "maternity care, delivery care, and youth clinics for those under 18 are never shown, whatever is "
            "chosen here."
        ),
    )
    harm_assessment_for_new_units = forms.BooleanField(
        label=_("New units need a manual harm assessment until judged otherwise"),
        required=False,
        help_text=_(
            "Default: no. The national rules: the record of a unit judged to need a manual harm assessment "
            "(menprövning) is never shown online. The flag is kept per unit, on the unit's page."
        ),
    )
    booking_target_percent = forms.IntegerField(
        label=_("Share of times open for online booking (%)"),
        help_text=_("Default: 80 per cent of all outpatient times. Between 1 and 100."),
    )
    booking_target_weeks = forms.IntegerField(
        label=_("Open online at least this many weeks ahead"),
        help_text=_("Default: 8 weeks. Between 1 and 52."),
    )
    onboarding_target_days = forms.IntegerField(
        label=_("Days from a unit's interest to live"),
        help_text=_("Default: 30 days (no more than a month). Between 1 and 365."),
    )

    def clean_service_name(self) -> str:
        return str(self.cleaned_data["service_name"]).strip()

    def clean_staff_service_name(self) -> str:
        return str(self.cleaned_data["staff_service_name"]).strip()

    def clean_guardian_access_until_age(self) -> int:
        return _between(self.cleaned_data["guardian_access_until_age"], 1, 18)

    def clean_own_record_from_age(self) -> int:
        return _between(self.cleaned_data["own_record_from_age"], 13, 18)

    def clean_booking_target_percent(self) -> int:
        return _between(self.cleaned_data["booking_target_percent"], 1, 100)

    def clean_booking_target_weeks(self) -> int:
        return _between(self.cleaned_data["booking_target_weeks"], 1, 52)

    def clean_onboarding_target_days(self) -> int:
        return _between(self.cleaned_data["onboarding_target_days"], 1, 365)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        guardian, own = data.get("guardian_access_until_age"), data.get("own_record_from_age")
        if guardian is not None and own is not None and guardian > own:
            self.add_error(
                "guardian_access_until_age",
                _("Guardians cannot keep access past the age the child reads their own record."),
            )
        opens, closes = data.get("support_opens"), data.get("support_closes")
        if isinstance(opens, dt.time) and isinstance(closes, dt.time) and opens >= closes:
            self.add_error("support_closes", _("Support closes after it opens."))
        notes, psychiatry = data.get("notes_from"), data.get("adult_psychiatry_notes_from")
        if notes and psychiatry and psychiatry < notes:
            self.add_error("adult_psychiatry_notes_from", _("Not before the date notes are shown from."))
        return data


def _between(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise forms.ValidationError(_("Choose between %(low)s and %(high)s.") % {"low": low, "high": high})
    return int(value)
