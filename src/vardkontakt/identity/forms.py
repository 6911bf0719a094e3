from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.contact import normalise_mobile
from vardkontakt.identity.models import Patient, Staff


class _ContactMixin(forms.ModelForm):
    sms_flag: str
    email_flag: str

    def clean_mobile(self) -> str:
        return normalise_mobile(self.cleaned_data.get("mobile", ""))

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get(self.sms_flag) and not cleaned.get("mobile") and "mobile" not in self.errors:
            self.add_error("mobile", ValidationError(_("Enter a mobile number to get text messages."), code="needed"))
        if cleaned.get(self.email_flag) and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", ValidationError(_("Enter an e-mail address to get e-mails."), code="needed"))
        return cleaned


class PatientSettingsForm(_ContactMixin):
    sms_flag = "notify_by_sms"
    email_flag = "notify_by_email"

    class Meta:
        model = Patient
        fields = ["mobile", "email", "notify_by_sms", "notify_by_email", "digital_letters", "letter_language"]
        widgets = {"letter_language": forms.RadioSelect}
        labels = {"letter_language": _("Language of your letters")}  # a legend: shown as written
        help_texts = {
            "letter_language": _("Letters on paper and saved as PDF are written in this language."),
            "digital_letters": _(
                "Appointment letters come to Brev here, not on paper. A letter you have not opened "
                "a few days before the appointment is still sent on paper."
            ),
            "mobile": _("For example 070-123 45 67. We never send medical information by text message."),
            "email": _("We only tell you that something new is waiting; you read it after logging in."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A form sent without the choice (an older page, a script) keeps the language chosen before.
        self.fields["letter_language"].required = False

    def clean_letter_language(self) -> str:
        return str(self.cleaned_data.get("letter_language") or self.instance.letter_language)


class StaffSettingsForm(_ContactMixin):
    sms_flag = "notify_assigned_by_sms"
    email_flag = "notify_assigned_by_email"

    class Meta:
        model = Staff
        fields = ["email", "mobile", "notify_assigned_by_email", "notify_assigned_by_sms", "signature"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "signature": _("Added automatically at the end of every message you send from your unit."),
        }
