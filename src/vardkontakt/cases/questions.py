"""A service's form: a list of questions stored as JSON, validated here, turned into a Django form.

Kinds: short text, long text, single choice, multiple choice, yes/no, date, medicines (the
renewable medicines in the person's record to tick, with a text box for any not listed), and call
back (yes/no to a phone call, with the number to call, filled in from the person's settings and
changeable); each with a label, optional help text and whether it is required.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.contact import normalise_phone, phone_for_display

KINDS = ("short_text", "long_text", "single_choice", "multiple_choice", "yes_no", "date", "medicines", "call_back")
MAX_QUESTIONS = 30
# A medicines question is answered in two form fields: the ticked medicines under its own key and
# the typed ones under the key with this suffix.
TYPED_SUFFIX = "_text"
# A call-back question likewise: yes or no under its own key, the number to call under this suffix.
NUMBER_SUFFIX = "_number"


@dataclass(frozen=True)
class MedicineChoices:
    """What a medicines question offers: (id, description) of the renewable medicines the reader may
    see in the person's record. ``readable`` is False when the record is closed to the reader; the
    form then says only that no list can be shown, never why (a seal or an age rule is not its news).
    """

    choices: list[tuple[str, str]] = field(default_factory=list)
    readable: bool = False


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
        if question.get("dates") not in (None, "past", "future") or (question.get("dates") and kind != "date"):
            raise ValidationError(_("A date question may allow only past or only future dates."))
        if kind in ("single_choice", "multiple_choice"):
            choices = question.get("choices")
            if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
                raise ValidationError(_("A choice question needs at least two choices."))
            english = question.get("choices_en", [""] * len(choices))
            if (
                not isinstance(english, list)
                or len(english) != len(choices)
                or not all(isinstance(c, str) for c in english)
            ):
                raise ValidationError(_("A choice question's English choices must match its choices one to one."))
    # The second half of a medicines or call-back question has a form field of its own, which no key
    # may shadow.
    typed = {q["key"] + TYPED_SUFFIX for q in questions if q["kind"] == "medicines"}
    typed |= {q["key"] + NUMBER_SUFFIX for q in questions if q["kind"] == "call_back"}
    if typed & keys:
        raise ValidationError(_("Each question needs a unique key."))


def asks_for_medicines(questions: list[dict[str, Any]]) -> bool:
    """Whether the form lists the person's medicines (so the record is read only when it does)."""
    return any(question.get("kind") == "medicines" for question in questions)


class _PickedMedicines(forms.MultipleChoiceField):
    """Ticked medicines: shown as required with its text box, but either may be left empty, so the
    form's ``clean`` checks the pair; only the ids offered are accepted."""

    def validate(self, value: Any) -> None:
        for picked in value:
            if not self.valid_value(picked):
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class _TypedMedicines(forms.CharField):
    def validate(self, value: Any) -> None:
        """Required together with the ticked medicines: checked by the form's ``clean``."""


class ServiceQuestionsForm(forms.Form):
    # (key, required) of the medicines questions, whose two halves are checked together.
    medicine_questions: tuple[tuple[str, bool], ...] = ()
    # Keys of the call-back questions: a "yes" needs a number that can be called.
    call_back_questions: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key in self.call_back_questions:
            number = key + NUMBER_SUFFIX
            if cleaned.get(key) != "yes":
                # No call wanted: the number (filled in from the settings, or half typed) is neither
                # kept nor judged.
                cleaned[number] = ""
                self.errors.pop(number, None)
            elif number not in self.errors and not cleaned.get(number):
                self.add_error(number, _("Write the number we should call."))
        for key, required in self.medicine_questions:
            typed = key + TYPED_SUFFIX
            if key not in self.fields and hasattr(self.data, "getlist") and self.data.getlist(key):
                # Ticked ids with no list offered can only be crafted: refused, never dropped silently.
                self.add_error(typed, _("Choose only medicines from the list."))
                continue
            if required and not cleaned.get(key) and not (cleaned.get(typed) or "").strip():
                if key in self.fields and key not in self.errors:
                    self.add_error(key, _("Tick a medicine in the list or write which medicines you want renewed."))
                elif key not in self.fields and typed not in self.errors:
                    self.add_error(typed, _("Write which medicines you want renewed."))
        return cleaned


def _medicine_fields(question: dict[str, Any], medicines: MedicineChoices) -> dict[str, forms.Field]:
    required = bool(question.get("required"))
    help_text = question.get("help", "")
    if medicines.choices:
        return {
            question["key"]: _PickedMedicines(
                label=worded(question, "label")[0],
                required=required,
                help_text=_(
                    "Medicines in the record that can be renewed. Tick those you want renewed, write "
                    "any others in the box below, or both."
                ),
                choices=medicines.choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages={"invalid_choice": _("Choose only medicines from the list.")},
            ),
            question["key"] + TYPED_SUFFIX: _TypedMedicines(
                label=_("Other medicines, not in the list"),
                required=required,
                help_text=help_text,
                max_length=5000,
                widget=forms.Textarea,
            ),
        }
    # Nothing to tick: say why in a way that tells nothing about the record beyond what the reader
    # may already see there (an empty list, or no list at all).
    if medicines.readable:
        why = _("There are no medicines in the record that can be renewed here, so there is no list to choose from.")
    else:
        why = _("Medicines from the record cannot be listed here.")
    return {
        question["key"] + TYPED_SUFFIX: _TypedMedicines(
            label=worded(question, "label")[0],
            required=required,
            help_text=f"{why} {help_text}".strip(),
            max_length=5000,
            widget=forms.Textarea,
        )
    }


class _NumberToCall(forms.CharField):
    """Any number that can be called, stored in E.164; required only with a "yes" (the form's clean)."""

    def to_python(self, value: Any) -> str:
        return normalise_phone(super().to_python(value) or "")


def _call_back_fields(question: dict[str, Any], saved_mobile: str) -> dict[str, forms.Field]:
    if saved_mobile:
        hint = _(
            "We have filled in the mobile number in your settings. Change it if you want us to call another number."
        )
    else:
        hint = _("For example 070-123 45 67. Only the unit sees it.")
    return {
        question["key"]: forms.TypedChoiceField(
            label=worded(question, "label")[0],
            required=bool(question.get("required")),
            help_text=question.get("help", ""),
            choices=[("yes", _("Yes")), ("no", _("No"))],
            widget=forms.RadioSelect,
        ),
        question["key"] + NUMBER_SUFFIX: _NumberToCall(
            label=_("The number to call, if you answered yes"),
            required=False,
            max_length=30,
            help_text=hint,
            initial=phone_for_display(saved_mobile),
            widget=forms.TextInput(attrs={"type": "tel"}),
        ),
    }


class _Date(forms.DateField):
    """A date that may lie only on one side of today, where the question makes no sense otherwise
    (when a test was taken: not in the future; which appointment to move: not in the past)."""

    def __init__(self, *, dates: str | None, label: str, plain_label: str, **kwargs: Any) -> None:
        today = timezone.localdate()
        attrs = {"type": "date"}
        if dates == "past":
            attrs["max"] = today.isoformat()
        elif dates == "future":
            attrs["min"] = today.isoformat()
        super().__init__(widget=forms.DateInput(attrs=attrs), label=label, **kwargs)
        self.dates, self.plain_label = dates, plain_label
        self.error_messages["invalid"] = _("Write the date for “%(question)s” as year-month-day, e.g. %(example)s.") % {
            "question": plain_label,
            "example": today.isoformat(),
        }

    def validate(self, value: Any) -> None:
        super().validate(value)
        today = timezone.localdate()
        if value and self.dates == "past" and value > today:
            raise ValidationError(
                _("The date for “%(question)s” cannot be in the future.") % {"question": self.plain_label}
            )
        if value and self.dates == "future" and value < today:
            raise ValidationError(
                _("The date for “%(question)s” cannot be in the past.") % {"question": self.plain_label}
            )


def _date_field(question: dict[str, Any], common: dict[str, Any]) -> forms.Field:
    return _Date(dates=question.get("dates"), plain_label=worded(question, "label")[1], **common)


def worded(question: dict[str, Any], key: str) -> tuple[str, str]:
    """A question's ``label`` or ``help`` in the reader's language, as (to show, as plain text): the
    unit's English wording (``label_en``) for English readers where it wrote one, else the Swedish,
    shown marked ``lang="sv"`` on an English page (issue 16 item 25)."""
    return in_reader_language(question.get(key, ""), question.get(f"{key}_en", ""))


def in_reader_language(swedish: str, english: str) -> tuple[Any, str]:
    """As ``worded``, for one text and its English wording."""
    if not (translation.get_language() or "sv").startswith("en"):
        return swedish, swedish
    if english:
        return english, english
    if not swedish:
        return "", ""
    return format_html('<span lang="sv">{}</span>', swedish), swedish


def choice_options(question: dict[str, Any]) -> list[tuple[str, Any]]:
    """A choice question's (value, label) pairs: the value is the Swedish choice, so the unit reads
    the answer as it wrote the choice; the label is in the reader's language."""
    english = question.get("choices_en") or [""] * len(question["choices"])
    return [
        (choice, in_reader_language(choice, en)[0]) for choice, en in zip(question["choices"], english, strict=False)
    ]


def build_form(
    questions: list[dict[str, Any]],
    data: Any = None,
    *,
    medicines: MedicineChoices | None = None,
    saved_mobile: str = "",
) -> forms.Form:
    """The service's form. ``saved_mobile`` (E.164, of the person writing) fills in the number a
    call-back question offers to call."""
    fields: dict[str, forms.Field] = {}
    medicine_questions: list[tuple[str, bool]] = []
    call_back_questions: list[str] = []
    for question in questions:
        label, plain_label = worded(question, "label")
        common: dict[str, Any] = {
            "label": label,
            "required": bool(question.get("required")),
            "help_text": worded(question, "help")[0],
            # Named, so the error summary says which question is missing an answer.
            "error_messages": {"required": _("Answer the question “%(question)s”.") % {"question": plain_label}},
        }
        kind = question["kind"]
        field: forms.Field
        if kind == "medicines":
            fields.update(_medicine_fields(question, medicines or MedicineChoices()))
            medicine_questions.append((question["key"], bool(question.get("required"))))
            continue
        if kind == "call_back":
            fields.update(_call_back_fields(question, saved_mobile))
            call_back_questions.append(question["key"])
            continue
        if kind == "short_text":
            field = forms.CharField(max_length=200, **common)
        elif kind == "long_text":
            field = forms.CharField(max_length=5000, widget=forms.Textarea, **common)
        elif kind == "single_choice":
            field = forms.ChoiceField(choices=choice_options(question), widget=forms.RadioSelect, **common)
        elif kind == "multiple_choice":
            field = forms.MultipleChoiceField(
                choices=choice_options(question), widget=forms.CheckboxSelectMultiple, **common
            )
        elif kind == "yes_no":
            field = forms.TypedChoiceField(
                choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
            )
        else:
            field = _date_field(question, common)
        fields[question["key"]] = field
    form_class = type(
        "ServiceQuestionsForm",
        (ServiceQuestionsForm,),
        {
            **fields,
            "medicine_questions": tuple(medicine_questions),
            "call_back_questions": tuple(call_back_questions),
        },
    )
    return form_class(data)


def answers_as_read(questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers to check before sending, worded as the form was read: each question and chosen
    choice in the reader's language (the stored answers keep the unit's Swedish)."""
    by_key = {question["key"]: question for question in questions}
    shown = []
    for answer in answers:
        question = by_key.get(answer["key"], {})
        label = worded(question, "label")[0] if question else answer["label"]
        value = answer["value"]
        if answer["kind"] in ("single_choice", "multiple_choice") and value:
            options = dict(choice_options(question))
            value = [options.get(v, v) for v in value] if isinstance(value, list) else options.get(value, value)
        shown.append({**answer, "label": label, "value": value})
    return shown


def answers_for_storage(
    questions: list[dict[str, Any]], cleaned: dict[str, Any], *, medicines: MedicineChoices | None = None
) -> list[dict[str, Any]]:
    """The answers with their questions' labels, as the patient saw them (forms change later).

    A medicines answer keeps each ticked medicine's id and its description as offered from the
    record (never text from the request), and the typed text apart, so staff can tell which is which.
    A call-back answer keeps "yes" or "no" and, with a yes, the number in E.164 and as shown.
    """
    offered = dict(medicines.choices) if medicines else {}
    stored = []
    for question in questions:
        value = cleaned.get(question["key"])
        if question["kind"] == "medicines":
            picked = [{"id": pk, "text": offered[pk]} for pk in value or [] if pk in offered]
            typed = (cleaned.get(question["key"] + TYPED_SUFFIX) or "").strip()
            value = {"picked": picked, "typed": typed} if picked or typed else None
        elif question["kind"] == "call_back" and value:
            number = (cleaned.get(question["key"] + NUMBER_SUFFIX) or "") if value == "yes" else ""
            value = {"answer": value, "number": number, "shown_as": phone_for_display(number)}
        elif isinstance(value, dt.date):
            value = value.isoformat()
        stored.append({"key": question["key"], "label": question["label"], "kind": question["kind"], "value": value})
    return stored
