from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Profession
from vardkontakt.identity.numbers import normalise_hsa_id
from vardkontakt.organisation.models import Administration, CareUnit, MembershipRole, Region, RegionRoleKind


class AdministrationForm(forms.Form):
    name = forms.CharField(label=_("Name of the administration"), max_length=100)


class UnitForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = CareUnit
        fields = [
            "hsa_id",
            "name",
            "kind",
            "administration",
            "street_address",
            "postal_code",
            "city",
            "phone",
            "website",
            "opening_hours",
            "answer_target_working_days",
            "needs_harm_assessment",
        ]
        help_texts = {
            "hsa_id": _("The unit's HSA-id in the catalogue, e.g. SE2321000255-E1234."),
            "kind": _("The kind of unit decides which record entries residents may read (SPEC §7)."),
            "answer_target_working_days": _("The law's default is 2 working days."),
            "needs_harm_assessment": _("Its notes are then never published in the record."),
        }

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["administration"]
        field.queryset = Administration.objects.filter(region=region).order_by("name")
        self.fields["opening_hours"].widget = forms.Textarea(attrs={"rows": 3})

    def clean_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["hsa_id"])

    def clean_answer_target_working_days(self) -> int:
        days = self.cleaned_data["answer_target_working_days"]
        if not 1 <= days <= 10:
            raise forms.ValidationError(_("Choose between 1 and 10 working days."))
        return int(days)


class StaffAddForm(forms.Form):
    hsa_id = forms.CharField(label=_("HSA-id"), max_length=31, help_text=_("For example SE2321000255-P1234."))
    given_name = forms.CharField(label=_("given name"), max_length=100)
    family_name = forms.CharField(label=_("family name"), max_length=100)
    profession = forms.ChoiceField(label=_("profession"), choices=Profession.choices)
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=CareUnit.objects.none(), required=False)
    unit_role = forms.ChoiceField(
        label=_("Role at the unit"), choices=MembershipRole.choices, initial=MembershipRole.STAFF
    )
    region_role = forms.ChoiceField(
        label=_("Region role"), choices=[("", _("None")), *RegionRoleKind.choices], required=False
    )

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["unit"]
        field.queryset = CareUnit.objects.filter(administration__region=region).order_by("name")

    def clean_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["hsa_id"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("unit") and not data.get("region_role") and not self.errors:
            raise forms.ValidationError(_("Choose a unit or a region role: staff work somewhere."))
        return data


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class DatesForm(forms.Form):
    """A place's start and last day, both optional: without them it holds from now on."""

    starts_on = forms.DateField(label=_("From"), required=False, widget=DateInput(), help_text=_("Optional."))
    ends_on = forms.DateField(
        label=_("Until"), required=False, widget=DateInput(), help_text=_("Optional: the last day it holds.")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The last day cannot come before the first."))
        return data


class MembershipForm(DatesForm):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=CareUnit.objects.none())
    role = forms.ChoiceField(label=_("Role at the unit"), choices=MembershipRole.choices)
    field_order = ["unit", "role", "starts_on", "ends_on"]

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["unit"]
        field.queryset = CareUnit.objects.filter(administration__region=region).order_by("name")


class RegionRoleForm(DatesForm):
    role = forms.ChoiceField(label=_("Region role"), choices=RegionRoleKind.choices)
    field_order = ["role", "starts_on", "ends_on"]
