from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.contact import normalise_mobile
from vardkontakt.payments.models import Method

METHODS = [(Method.SWISH.value, _("Swish")), (Method.CARD.value, _("Card"))]


class PayForm(forms.Form):
    hide_optional_marker = True  # the number is needed for Swish, and asked for only then
    method = forms.ChoiceField(
        label=_("How do you want to pay?"),
        choices=METHODS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose Swish or card.")},
    )
    phone = forms.CharField(
        label=_("Mobile number for Swish"),
        max_length=20,
        required=False,
        help_text=_("The number your Swish is connected to, for example 070-123 45 67."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, available: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.available = available
        field = self.fields["method"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 (narrows the type)
        field.choices = [(value, label) for value, label in METHODS if available.get(value)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") == Method.SWISH:
            number = normalise_swish_number(data.get("phone", ""))
            if number is None:
                self.add_error("phone", _("Enter a Swedish mobile number, for example 070-123 45 67."))
            else:
                data["payer_alias"] = number
        return data


def normalise_swish_number(value: str) -> str | None:
    """Swish's form of a Swedish mobile number: 46701234567; None if it is not one."""
    try:
        e164 = normalise_mobile(value)
    except forms.ValidationError:
        return None
    if not e164.startswith("+46"):
        return None
    return e164[1:]


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to pay back (kronor)"), min_value=Decimal("0.01"), max_digits=9, decimal_places=2, localize=True
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Kept in the log.")
    )
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RulesForm(forms.ModelForm):
    class Meta:
        from vardkontakt.payments.models import PaymentRules

        model = PaymentRules
        fields = ["bankgiro", "invoice_after_days", "due_days", "reminder_after_days", "reminder_fee"]
        help_texts = {
            "bankgiro": _("For example 5050-1055. Without a bankgiro number the region sends no invoices."),
            "reminder_fee": _("At most 60 kronor."),
        }

    def clean_bankgiro(self) -> str:
        from vardkontakt.payments.bank import bankgiro_valid

        value = (self.cleaned_data.get("bankgiro") or "").strip()
        if value and not bankgiro_valid(value):
            raise forms.ValidationError(_("This is not a bankgiro number: check the digits."))
        return value

    def clean_due_days(self) -> int:
        value = self.cleaned_data["due_days"]
        if value < 10:
            raise forms.ValidationError(_("Give the payer at least 10 days."))
        return int(value)

    def clean_reminder_fee(self) -> Decimal:
        value = self.cleaned_data["reminder_fee"]
        if value is None or value < 0 or value > 60:
            raise forms.ValidationError(_("A reminder fee is 0 to 60 kronor."))
        return Decimal(value)


class BankFileForm(forms.Form):
    file = forms.FileField(
        label=_("The bank's file of deposits (CSV)"), help_text=_("Columns: ocr;amount;paid_on;reference")
    )
