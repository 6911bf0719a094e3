from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.numbers import normalise_hsa_id, normalise_personnummer


class PersonnummerField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        return normalise_personnummer(value)


class ProxyInviteForm(forms.Form):
    personnummer = PersonnummerField(
        label=_("The proxy's personal identity number"), max_length=20, help_text=_("YYYYMMDD-NNNN")
    )
    scope_record = forms.BooleanField(label=_("Read my record"), required=False)
    scope_cases = forms.BooleanField(label=_("Messages and cases"), required=False)
    scope_bookings = forms.BooleanField(label=_("Bookings"), required=False)
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("For example 2027-06-30. Leave empty to keep it until one of you ends it."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_expires_on(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise ValidationError(_("The end date must be in the future."), code="expiry_past")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(f"scope_{name}") for name in ("record", "cases", "bookings")):
            raise ValidationError(_("Choose at least one thing the proxy may do."), code="no_scope")
        return cleaned


class SealForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that nobody, not even I, can read my record online until the region archive reopens it"),
        required=True,
        error_messages={"required": _("Confirm that you understand what sealing means.")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"min_length": _("Give the reason (at least 10 characters).")},
    )


class PersonnummerSearchForm(forms.Form):
    personnummer = PersonnummerField(label=_("Personal identity number"), max_length=20)


class LogFilterForm(forms.Form):
    # A filter: every box may stay empty, so none is marked "(optional)".
    hide_optional_marker = True
    patient = PersonnummerField(label=_("Patient's personal identity number"), max_length=20, required=False)
    staff = forms.CharField(label=_("Staff member's HSA-id"), max_length=31, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_staff(self) -> str:
        value = (self.cleaned_data.get("staff") or "").strip()
        return normalise_hsa_id(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", ValidationError(_("The end date is before the start date."), code="order"))
        return cleaned


class AccessLogFilter(forms.Form):
    """Whose reads, and which days, in "Vem har läst min journal"."""

    readers = forms.ChoiceField(
        label=_("Whose reads"),
        choices=[
            ("others", _("Care staff, systems and anyone acting for you")),
            ("own", _("Your own")),
            ("all", _("All")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date must be the same as or after the start date."))
        return data
