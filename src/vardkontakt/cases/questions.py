"""A service's form: a list of questions stored as JSON, validated here, turned into a Django form.

Kinds: short text, long text, single choice, multiple choice, yes/no, date; each with a label,
optional help text and whether it is required.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

KINDS = ("short_text", "long_text", "single_choice", "multiple_choice", "yes_no", "date")
MAX_QUESTIONS = 30


def validate_questions(questions: Any) -> None:
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        raise ValidationError(_("A form is a list of at most %(max)d questions.") % {"max": MAX_QUESTIONS})
    keys = set()
    for question in questions:
        if not isinstance(question, dict):
            raise ValidationError(_("Each question must be an object."))
        key, kind, label = question.get("key"), question.get("kind"), question.get("label")
        if not isinstance(key, str) or not key.isidentifier() or key in keys:
            raise ValidationError(_("Each question needs a unique key."))
        keys.add(key)
        if kind not in KINDS:
            raise ValidationError(_("Unknown question kind: %(kind)s") % {"kind": kind})
        if not isinstance(label, str) or not label.strip():
            raise ValidationError(_("Each question needs a label."))
        if kind in ("single_choice", "multiple_choice"):
            choices = question.get("choices")
            if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
                raise ValidationError(_("A choice question needs at least two choices."))


def build_form(questions: list[dict[str, Any]], data: Any = None) -> forms.Form:
    fields: dict[str, forms.Field] = {}
    for question in questions:
        common = {
            "label": question["label"],
            "required": bool(question.get("required")),
            "help_text": question.get("help", ""),
        }
        kind = question["kind"]
        field: forms.Field
        if kind == "short_text":
            field = forms.CharField(max_length=200, **common)
        elif kind == "long_text":
            field = forms.CharField(max_length=5000, widget=forms.Textarea, **common)
        elif kind == "single_choice":
            field = forms.ChoiceField(choices=[(c, c) for c in question["choices"]], widget=forms.RadioSelect, **common)
        elif kind == "multiple_choice":
            field = forms.MultipleChoiceField(
                choices=[(c, c) for c in question["choices"]], widget=forms.CheckboxSelectMultiple, **common
            )
        elif kind == "yes_no":
            field = forms.TypedChoiceField(
                choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
            )
        else:
            field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        fields[question["key"]] = field
    form_class = type("ServiceQuestionsForm", (forms.Form,), fields)
    return form_class(data)


def answers_for_storage(questions: list[dict[str, Any]], cleaned: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers with their questions' labels, as the patient saw them (forms change later)."""
    stored = []
    for question in questions:
        value = cleaned.get(question["key"])
        if isinstance(value, dt.date):
            value = value.isoformat()
        stored.append({"key": question["key"], "label": question["label"], "kind": question["kind"], "value": value})
    return stored
