from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.cases.models import CaseOutcome


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a message.")},
    )  # fmt: skip


class StaffMessageForm(MessageForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(VersionForm):
    to = forms.UUIDField(label=_("Assign to"))


class CloseForm(VersionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(value, label) for value, label in CaseOutcome.choices if value != CaseOutcome.WITHDRAWN],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the case ended.")},
    )
