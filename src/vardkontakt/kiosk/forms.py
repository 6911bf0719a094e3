from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class IdentifyForm(forms.Form):
    personnummer = forms.CharField(
        label=_("Personal identity number"),
        max_length=13,
        help_text=_("12 digits"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "class": "vk-kiosk-input"}),
    )
    time = forms.TimeField(
        label=_("The time of your appointment"),
        help_text=_("For example 10:30"),
        input_formats=["%H:%M", "%H.%M", "%H%M"],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "class": "vk-kiosk-input"}),
    )


class DeviceForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the kiosk"), max_length=80, help_text=_("For example where it stands: Entrance, floor 2")
    )
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
