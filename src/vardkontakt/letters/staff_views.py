"""The unit administrator's page for the unit's letter texts, in Swedish and English, with a preview
of the letter as residents will get it (an invented person and time: no one's data is shown)."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from vardkontakt.access import policy as access_policy
from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.identity.models import Patient, Profession, Staff
from vardkontakt.letters import render as letter_render
from vardkontakt.letters.models import Language, LetterKind, LetterSettings, LetterTemplate
from vardkontakt.letters.services import letter_settings_update, letter_template_save, settings_of
from vardkontakt.organisation.models import CareUnit, Region


class WordsForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["greeting", "preparation", "directions", "closing"]
        widgets = {
            "preparation": forms.Textarea(attrs={"rows": 4}),
            "directions": forms.Textarea(attrs={"rows": 4}),
            "closing": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "greeting": gettext_lazy("Shown after the welcome, for example what the visit is for."),
            "preparation": gettext_lazy("For example: bring your medicines, come 10 minutes early."),
        }


def _unit_for_letters(staff: Staff, unit_id: uuid.UUID) -> CareUnit:
    """404 outside the unit, 403 for a member who is not its unit administrator."""
    unit = CareUnit.objects.select_related("administration").filter(pk=unit_id).first()
    if unit is None or not access_policy.is_member(staff, unit):
        raise Http404
    if not access_policy.is_unit_admin(staff, unit):
        raise PermissionDenied
    return unit


def _forms(unit: CareUnit, data: QueryDict | None = None) -> dict[str, WordsForm]:
    found = {t.language: t for t in LetterTemplate.objects.filter(unit=unit)}
    return {
        language: WordsForm(
            data, instance=found.get(language) or LetterTemplate(unit=unit, language=language), prefix=language
        )
        for language in Language.values
    }


def _preview(unit: CareUnit, language: str, words: letter_render.Words) -> str:
    sample = Patient(given_name=_("Firstname"), family_name=_("Lastname"), personnummer="")
    starts = (timezone.now() + dt.timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
    facts = letter_render.Facts(
        kind=LetterKind.APPOINTMENT,
        patient=sample,
        unit=unit,
        starts_at=starts,
        place=_("Room 1"),
        visit_name_sv="Återbesök",
        visit_name_en="Follow-up visit",
        profession=Profession.NURSE,
        fee_kronor=200,
        may_cancel_online=True,
        may_rebook_online=True,
        cancellation_deadline_hours=24,
    )
    return letter_render.page(facts, words, language)


@staff_required
@require_http_methods(["GET", "POST"])
def letter_texts(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = _unit_for_letters(request.staff, unit_id)
    posted = request.method == "POST"
    forms_by_language = _forms(unit, request.POST if posted else None)
    previews: dict[str, str] = {}
    if posted and all(form.is_valid() for form in forms_by_language.values()):
        chosen = {
            language: letter_render.Words(**{name: form.cleaned_data[name] for name in WordsForm.Meta.fields})
            for language, form in forms_by_language.items()
        }
        if request.POST.get("action") == "save":
            for language, words in chosen.items():
                letter_template_save(unit=unit, by=request.staff, language=language, words=words)
            messages.success(request, _("The letter texts are saved. Letters already sent keep their words."))
            return redirect("letters_staff:texts", unit_id=unit.pk)
        previews = {language: _preview(unit, language, words) for language, words in chosen.items()}
    context = {"unit": unit, "forms": forms_by_language, "previews": previews}
    invalid = posted and any(form.errors for form in forms_by_language.values())
    return render(request, "letters/staff_texts.html", context, status=400 if invalid else 200)


class LetterSettingsForm(forms.ModelForm):
    class Meta:
        model = LetterSettings
        fields = ["issue_hour", "paper_days_before", "keep_days_without_account"]
        help_texts = {
            "issue_hour": gettext_lazy(
                "Swedish time, 0-23. The day's bookings, moves and cancellations leave together after this hour, "
                "so a booking changed twice in a day makes one letter."
            ),
        }

    def clean_issue_hour(self) -> int:
        hour = self.cleaned_data["issue_hour"]
        if hour > 23:
            raise forms.ValidationError(_("Give an hour from 0 to 23."))
        return int(hour)


@staff_required
@require_http_methods(["GET", "POST"])
def region_letter_rules(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    """The region administrator's letter rules (other staff: 404)."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access_policy.is_region_admin(request.staff, region):
        raise Http404
    current = settings_of(region)
    form = LetterSettingsForm(
        request.POST if request.method == "POST" else None,
        instance=LetterSettings(
            region=region,
            issue_hour=current.issue_hour,
            paper_days_before=current.paper_days_before,
            keep_days_without_account=current.keep_days_without_account,
        ),
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in LetterSettingsForm.Meta.fields}
        changed = letter_settings_update(region=region, by=request.staff, values=values)
        messages.success(request, _("The letter rules are saved.") if changed else _("Nothing was changed."))
        return redirect("letters_staff:region_rules", region_id=region.pk)
    context = {"region": region, "form": form}
    return render(request, "letters/region_rules.html", context, status=400 if form.errors else 200)
