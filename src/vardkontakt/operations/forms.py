from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from vardkontakt.operations.models import Audience, MessageKind, OperationalMessage

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time field; the value is Swedish local time (Django makes it aware in
    Europe/Stockholm and refuses a time that does not exist or occurs twice at a DST change)."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=LOCAL_INPUT_FORMAT)


class MessageForm(forms.ModelForm):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    class Meta:
        model = OperationalMessage
        fields = ["kind", "title", "text", "starts_at", "ends_at", "audience"]
        widgets = {
            "kind": forms.RadioSelect,
            "audience": forms.RadioSelect,
            "starts_at": LocalDateTimeInput(),
            "ends_at": LocalDateTimeInput(),
            "text": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "title": _("Short, for example: The e-services are closed for maintenance"),
            "text": _("What does not work, what people can do instead, and when it works again."),
            "starts_at": _("Swedish time, for example 2026-03-29 01:00"),
            "ends_at": _("Swedish time. The banner disappears at this time."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons: no empty "---------" choice, and labels that start a line.
        for name, choices in (("kind", MessageKind.choices), ("audience", Audience.choices)):
            cast(forms.ChoiceField, self.fields[name]).choices = [(value, capfirst(label)) for value, label in choices]
        for name in ("starts_at", "ends_at"):
            value = self.initial.get(name)
            if value is not None and not isinstance(value, str):
                # Shown as the field expects it, in Swedish time, not as the stored UTC value.
                self.initial[name] = timezone.localtime(value).strftime(LOCAL_INPUT_FORMAT)
        # A new message already has its UUID primary key before it is saved, so "is it new" is asked
        # of the model state, never of ``instance.pk``.
        if self.publishes_new and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    @property
    def publishes_new(self) -> bool:
        return self.instance._state.adding

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", ValidationError(_("The end must be after the start."), code="order"))
        elif ends_at and ends_at <= timezone.now():
            self.add_error(
                "ends_at", ValidationError(_("The end has already passed: nobody would see the message."), code="past")
            )
        if self.publishes_new and not cleaned.get("idempotency_key"):
            raise ValidationError(_("The form has expired. Please fill it in again."), code="no_key")
        return cleaned

    def content(self) -> dict[str, Any]:
        """What the message says and when and to whom: the fields publishing and editing share."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
