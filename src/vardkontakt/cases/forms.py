from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vardkontakt.cases.models import CaseOutcome
from vardkontakt.cases.naming import validate_service_name
from vardkontakt.identity.models import Profession


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a message.")},
    )


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


class ServiceDefinitionForm(forms.Form):
    """What a unit (or the region, for its defaults) says about a service: name, terms, professions."""

    name = forms.CharField(
        label=_("Name"), max_length=60, help_text=_("Say what the patient does, e.g. “Förnya recept”.")
    )
    terms = forms.CharField(
        label=_("Terms shown to the patient"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )
    name_en = forms.CharField(
        label=_("Name in English"),
        max_length=60,
        required=False,
        help_text=_("Shown to residents who read in English. Leave it empty to show the Swedish name."),
    )
    terms_en = forms.CharField(
        label=_("Terms in English"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    professions = forms.MultipleChoiceField(
        label=_("Goes to these professions"), required=False, widget=forms.CheckboxSelectMultiple
    )
    active = forms.BooleanField(label=_("Offered to patients"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professions"].choices = Profession.choices  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        validate_service_name(name)
        return name


class QuestionForm(forms.Form):
    label = forms.CharField(label=_("Question"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind of answer"),
        choices=[
            ("short_text", _("Short text")),
            ("long_text", _("Long text")),
            ("single_choice", _("One of several choices")),
            ("multiple_choice", _("Several choices")),
            ("yes_no", _("Yes or no")),
            ("date", _("Date")),
            ("medicines", _("Medicines from the record to tick, and a text box for others")),
            ("call_back", _("Yes or no to a phone call, and the number to call")),
        ],
    )
    help = forms.CharField(label=_("Help text"), max_length=300, required=False)
    label_en = forms.CharField(label=_("Question in English"), max_length=200, required=False)
    help_en = forms.CharField(label=_("Help text in English"), max_length=300, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices, one per line"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    choices_en = forms.CharField(
        label=_("Choices in English, one per line in the same order"),
        help_text=_("Leave a line empty where you have no English wording: that choice is shown in Swedish."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        options = [line.strip() for line in (cleaned.get("choices") or "").splitlines() if line.strip()]
        if cleaned.get("kind") in ("single_choice", "multiple_choice") and len(options) < 2:
            self.add_error("choices", ValidationError(_("Give at least two choices."), code="choices"))
        cleaned["choice_list"] = options
        # Matched to the Swedish choices by position, so an empty line keeps a choice without English.
        english = [line.strip() for line in (cleaned.get("choices_en") or "").rstrip().splitlines()]
        if len(english) > len(options):
            self.add_error(
                "choices_en", ValidationError(_("Give no more English choices than choices."), code="choices_en")
            )
        cleaned["choice_en_list"] = english + [""] * (len(options) - len(english))
        return cleaned


QuestionFormSet = forms.formset_factory(QuestionForm, extra=1, can_delete=True, max_num=30, validate_max=True)


def questions_from_formset(formset: Any) -> list[dict[str, Any]]:
    questions = []
    for index, form in enumerate(formset.forms):
        data = form.cleaned_data
        if not data or data.get("DELETE") or not data.get("label"):
            continue
        question: dict[str, Any] = {
            "key": f"q{index + 1}",
            "kind": data["kind"],
            "label": data["label"],
            "required": data["required"],
            "help": data.get("help", ""),
        }
        for english in ("label_en", "help_en"):  # the unit's English wording, where it gave one
            if data.get(english):
                question[english] = data[english]
        if data["kind"] in ("single_choice", "multiple_choice"):
            question["choices"] = data["choice_list"]
            if any(data["choice_en_list"]):
                question["choices_en"] = data["choice_en_list"]
        questions.append(question)
    return questions


def formset_initial(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "label": q["label"],
            "kind": q["kind"],
            "help": q.get("help", ""),
            "label_en": q.get("label_en", ""),
            "help_en": q.get("help_en", ""),
            "required": q.get("required", False),
            "choices": "\n".join(q.get("choices", [])),
            "choices_en": "\n".join(q.get("choices_en", [])),
        }
        for q in questions
    ]
