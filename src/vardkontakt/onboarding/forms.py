from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Staff
from vardkontakt.identity.numbers import normalise_hsa_id
from vardkontakt.organisation.models import Administration, CareUnit, MembershipRole, Onboarding

DATE = forms.DateInput(attrs={"type": "date"})


def staff_by_hsa_id(value: str) -> Staff:
    """The staff member a typed HSA-id names: a form error if it is malformed or nobody known."""
    try:
        hsa_id = normalise_hsa_id(value)
    except ValidationError as error:
        raise ValidationError(error.messages) from None
    staff = Staff.objects.filter(hsa_id=hsa_id).first()
    if staff is None:
        raise ValidationError(_("Nobody with this HSA-id has logged in to the staff service yet."))
    return staff


class InterestForm(forms.ModelForm):
    class Meta:
        model = Onboarding
        fields = [
            "administration",
            "unit_name",
            "hsa_id",
            "kind",
            "contact_name",
            "contact_email",
            "contact_phone",
            "message",
        ]
        help_texts = {"hsa_id": _("For example SE2321000255-E1234.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = Administration.objects.select_related("region").order_by(  # type: ignore[attr-defined]
            "region__name", "name"
        )
        self.fields["administration"].label_from_instance = lambda a: f"{a.region.name}: {a.name}"  # type: ignore[attr-defined]

    def clean_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["hsa_id"])


class MeetingForm(forms.Form):
    meeting_on = forms.DateField(label=_("Date of the information meeting"), widget=DATE)
    agreed_start_on = forms.DateField(label=_("Agreed start"), widget=DATE)


class AppointForm(forms.Form):
    hsa_id = forms.CharField(label=_("HSA-id of the unit administrator"), max_length=31)
    trained_on = forms.DateField(label=_("Training completed (if done)"), widget=DATE, required=False)

    def clean_hsa_id(self) -> Staff:
        return staff_by_hsa_id(self.cleaned_data["hsa_id"])


class TrainingForm(forms.Form):
    trained_on = forms.DateField(
        label=_("Training completed"),
        widget=DATE,
        error_messages={"required": _("Enter the date the training was completed.")},
    )


class ContactForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = CareUnit
        fields = ["street_address", "postal_code", "city", "phone", "website", "opening_hours"]
        help_texts = {"opening_hours": _("As residents should read them, e.g. 'Monday to Friday 8–17'.")}
        widgets = {"opening_hours": forms.Textarea(attrs={"rows": 3})}


class OpeningExceptionForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=DATE)
    hours = forms.CharField(
        label=_("Opening hours that day"), max_length=120, help_text=_("For example 'Closed' or '10–14'.")
    )


class MemberForm(forms.Form):
    hsa_id = forms.CharField(label=_("HSA-id"), max_length=31)
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices)

    def clean_hsa_id(self) -> Staff:
        return staff_by_hsa_id(self.cleaned_data["hsa_id"])


class NewsForm(forms.Form):
    title = forms.CharField(label=_("Heading"), max_length=120)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
