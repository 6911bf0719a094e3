"""The seed's services (SPEC §4, 1-9) with the default form a region starts from."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    REQUEST_APPOINTMENT = "request_appointment", _("Request an appointment")
    CANCEL_REBOOK = "cancel_rebook", _("Cancel or rebook an appointment")
    CONTACT_ME = "contact_me", _("Contact me")
    RENEW_PRESCRIPTION = "renew_prescription", _("Renew a prescription")
    RENEW_ASSISTIVE_DEVICE = "renew_assistive_device", _("Renew an assistive device")
    TEST_RESULTS = "test_results", _("Results of tests or X-ray")
    ADVICE = "advice", _("Ask for advice")
    REQUEST_CERTIFICATE = "request_certificate", _("Request a certificate")
    LIFESTYLE_SUPPORT = "lifestyle_support", _("Support to change lifestyle habits")


# Swedish names as the seed writes them: what the resident does.
SWEDISH_NAMES = {
    ServiceKind.REQUEST_APPOINTMENT: "Beställa tid",
    ServiceKind.CANCEL_REBOOK: "Av- och omboka tid",
    ServiceKind.CONTACT_ME: "Kontakta mig",
    ServiceKind.RENEW_PRESCRIPTION: "Förnya recept",
    ServiceKind.RENEW_ASSISTIVE_DEVICE: "Förnya hjälpmedel",
    ServiceKind.TEST_RESULTS: "Svar på prover eller röntgen",
    ServiceKind.ADVICE: "Rådgivning",
    ServiceKind.REQUEST_CERTIFICATE: "Begära intyg",
    ServiceKind.LIFESTYLE_SUPPORT: "Stöd att ändra levnadsvanor",
}

# The seed's call-back question (older cases answered it as a plain yes/no: cases/selectors.py).
CALL_BACK_KEY = "phone_ok"
CALL_BACK_LABEL = "Går det bra att vi ringer dig?"

_WHAT = {
    "key": "what",
    "kind": "long_text",
    "label": "Beskriv ditt ärende",
    "required": True,
    "help": "Skriv så att vi förstår vad det gäller. Skriv inte om något är akut: ring 112 eller 1177.",
}

DEFAULT_QUESTIONS: dict[str, list[dict[str, Any]]] = {
    ServiceKind.REQUEST_APPOINTMENT: [
        _WHAT,
        {
            "key": "when",
            "kind": "multiple_choice",
            "label": "När passar det dig?",
            "required": False,
            "choices": ["Förmiddag", "Eftermiddag", "Vilken tid som helst"],
        },
    ],
    ServiceKind.CANCEL_REBOOK: [
        {
            "key": "booked_on",
            "kind": "date",
            "label": "Vilken dag är tiden du vill ändra?",
            "required": True,
            "dates": "future",
        },
        {
            "key": "action",
            "kind": "single_choice",
            "label": "Vad vill du göra?",
            "required": True,
            "choices": ["Avboka", "Omboka"],
        },
        {"key": "why", "kind": "short_text", "label": "Något vi bör veta?", "required": False},
    ],
    ServiceKind.CONTACT_ME: [
        _WHAT,
        {"key": CALL_BACK_KEY, "kind": "call_back", "label": CALL_BACK_LABEL, "required": True},
    ],
    ServiceKind.RENEW_PRESCRIPTION: [
        {
            "key": "medicines",
            "kind": "medicines",
            "label": "Vilka läkemedel vill du förnya?",
            "required": True,
            "help": "Skriv namn och styrka så som det står på förpackningen.",
        },
        {"key": "pharmacy_note", "kind": "short_text", "label": "Något mer vi behöver veta?", "required": False},
    ],
    ServiceKind.RENEW_ASSISTIVE_DEVICE: [
        {"key": "device", "kind": "short_text", "label": "Vilket hjälpmedel gäller det?", "required": True},
        _WHAT,
    ],
    ServiceKind.TEST_RESULTS: [
        {
            "key": "taken_on",
            "kind": "date",
            "label": "När togs provet eller röntgen?",
            "required": False,
            "dates": "past",
        },
        _WHAT,
    ],
    ServiceKind.ADVICE: [_WHAT],
    ServiceKind.REQUEST_CERTIFICATE: [
        {"key": "certificate", "kind": "short_text", "label": "Vilket intyg behöver du?", "required": True},
        {"key": "purpose", "kind": "short_text", "label": "Vad ska intyget användas till?", "required": True},
    ],
    ServiceKind.LIFESTYLE_SUPPORT: [
        {
            "key": "habits",
            "kind": "multiple_choice",
            "label": "Vad vill du ha stöd med?",
            "required": True,
            "choices": ["Mat", "Tobak", "Fysisk aktivitet", "Alkohol"],
        },
        _WHAT,
    ],
}

DEFAULT_TERMS = (
    "Du får svar inom två arbetsdagar. E-tjänsterna är inte till för akuta ärenden: "
    "ring 112 vid fara för liv, annars 1177. Behöver vi prata med dig ringer vi upp."
)
