from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.contact import normalise_mobile
from vardkontakt.identity.numbers import normalise_personnummer

SCORES = [(5, _("Very good")), (4, _("Good")), (3, _("Neither good nor bad")), (2, _("Poor")), (1, _("Very poor"))]


class EvaluationForm(forms.Form):
    picture_and_sound = forms.TypedChoiceField(
        label=_("How were the picture and the sound?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    easy_to_join = forms.TypedChoiceField(
        label=_("How easy was it to join the video visit?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    helped = forms.TypedChoiceField(
        label=_("How well did the visit help you?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Do not write about your health here: the answers are read as statistics, not by your carer."),
    )


class DropInJoinForm(forms.Form):
    queue = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("What is it about? (a few words)"),
        max_length=200,
        help_text=_("The nurse reads it before taking your call."),
    )
    form_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)


class QueueOpenForm(forms.Form):
    unit = forms.UUIDField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name of the queue"), max_length=120, help_text=_("E.g. “Barnakuten video 08–12”."))
    opens_at = forms.DateTimeField(label=_("Opens"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    closes_at = forms.DateTimeField(label=_("Closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    form_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            raise forms.ValidationError(_("The queue must close after it opens."))
        return data


class InterpreterInviteForm(forms.Form):
    """The staff's invitation of an interpreter: who (their personnummer, for the e-ID login) and
    where the neutral notice goes (an e-mail address or a mobile number)."""

    personnummer = forms.CharField(
        label=_("The interpreter's personal identity number"),
        max_length=13,
        help_text=_("YYYYMMDD-XXXX. The interpreter logs in with their own e-ID; the invitation is theirs alone."),
    )
    contact = forms.CharField(
        label=_("The interpreter's e-mail address or mobile number"),
        max_length=254,
        help_text=_("A short notice goes there, with the time only: no name, no unit."),
    )
    form_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def clean_personnummer(self) -> str:
        try:
            return normalise_personnummer(self.cleaned_data["personnummer"])
        except ValidationError as error:
            raise forms.ValidationError(
                _("Enter a personal identity number, for example 19121212-1212."), code="personnummer"
            ) from error

    def clean_contact(self) -> tuple[str, str]:
        value = self.cleaned_data["contact"].strip()
        if "@" in value:
            try:
                validate_email(value)
            except ValidationError as error:
                raise forms.ValidationError(_("Enter a valid e-mail address."), code="email") from error
            return ("email", value.lower())
        try:
            return ("sms", normalise_mobile(value))
        except ValidationError as error:
            raise forms.ValidationError(
                _("Enter an e-mail address or a mobile number, for example 070-123 45 67."), code="contact"
            ) from error
