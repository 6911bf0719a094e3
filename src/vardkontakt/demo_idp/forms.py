from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.demo_idp.protocol import LOA2
from vardkontakt.demo_idp.roles import resident_roles, staff_roles
from vardkontakt.identity.models import Patient, Staff


class ChooserForm(forms.Form):
    person = forms.ChoiceField(label=_("Demo person"), required=False)
    identity_number = forms.CharField(
        label=_("Or type an identity number"),
        required=False,
        max_length=40,
        help_text=_("A personal identity number, coordination number or HSA-id, as the e-ID would send it."),
    )
    given_name = forms.CharField(label=_("Given name (for a new person)"), required=False, max_length=100)
    family_name = forms.CharField(label=_("Family name (for a new person)"), required=False, max_length=100)
    acr = forms.ChoiceField(label=_("Assurance level"), required=True)

    def __init__(self, *args: Any, tenant: str, required_acr: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        # People with a part to play in the demo first, each labelled with it; then everyone else.
        with_role: list[tuple[str, str]] = []
        others: list[tuple[str, str]] = []
        if tenant == "eid":
            roles = resident_roles()
            for patient in Patient.objects.order_by("family_name", "given_name"):
                label = f"{patient.full_name} ({patient.personnummer_display})"
                found = roles.get(patient.pk)
                (with_role if found else others).append(
                    (patient.personnummer, f"{label} – {'; '.join(found)}" if found else label)
                )
        else:
            roles = staff_roles()
            for staff in Staff.objects.order_by("family_name", "given_name"):
                label = f"{staff.full_name}, {staff.get_profession_display()} ({staff.hsa_id})"
                found = roles.get(staff.pk)
                (with_role if found else others).append(
                    (staff.hsa_id, f"{label} – {'; '.join(found)}" if found else label)
                )
        choices: list[tuple[str, Any]] = [("", _("Choose a person")), *with_role, *others]
        self.fields["person"].choices = choices  # type: ignore[attr-defined]
        self.fields["acr"].choices = [  # type: ignore[attr-defined]
            (required_acr, _("Level 3 (BankID, Freja+, SITHS)")),
            (LOA2, _("Level 2 (not enough for this service)")),
        ]
        self.fields["acr"].initial = required_acr

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed = (cleaned.get("identity_number") or "").strip()
        if not typed and not cleaned.get("person"):
            raise forms.ValidationError(_("Choose a person or type an identity number."))
        cleaned["identity"] = typed or cleaned["person"]
        return cleaned

    def token_claims(self, subject_claim: str) -> dict[str, str]:
        identity = self.cleaned_data["identity"]
        given = self.cleaned_data.get("given_name") or ""
        family = self.cleaned_data.get("family_name") or ""
        known: Patient | Staff | None
        if self.tenant == "eid":
            known = Patient.objects.filter(personnummer=identity.replace("-", "")).first()
        else:
            known = Staff.objects.filter(hsa_id=identity.upper()).first()
        if known is not None and not (given or family):
            given, family = known.given_name, known.family_name
        return {
            subject_claim: identity,
            "acr": self.cleaned_data["acr"],
            "given_name": given or "Test",
            "family_name": family or "Testsson",
            "name": f"{given or 'Test'} {family or 'Testsson'}",
        }
