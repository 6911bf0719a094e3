from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.organisation.models import CareUnit


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Frikort code"),
        max_length=400,
        help_text=_("Paste or type the code from the resident's digital frikort."),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )


class RegisterForm(forms.Form):
    personnummer = forms.CharField(label=_("Personal identity number"), max_length=13, help_text=_("12 digits"))
    unit = forms.ModelChoiceField(label=_("Registered at"), queryset=CareUnit.objects.none(), empty_label=None)
    date_of_care = forms.DateField(label=_("Date of care"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(
        label=_("Amount paid (kronor)"), min_value=Decimal("0.01"), max_digits=9, decimal_places=2, localize=True
    )
    provider = forms.CharField(label=_("Paid to"), max_length=200, help_text=_("The region or the private unit"))
    counts = forms.BooleanField(label=_("Counts toward the high-cost protection"), required=False, initial=True)
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Logged with the fee")
    )
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, units: list[CareUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = CareUnit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]

    def clean_personnummer(self) -> str:
        return normalise_personnummer(self.cleaned_data["personnummer"])
