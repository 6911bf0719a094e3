from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SCORES = [(5, _("Very good")), (4, _("Good")), (3, _("Neither good nor bad")), (2, _("Poor")), (1, _("Very poor"))]


class EvaluationForm(forms.Form):
    picture_and_sound = forms.TypedChoiceField(
        label=_("How were the picture and the sound?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    easy_to_join = forms.TypedChoiceField(
        label=_("How easy was it to join the video visit?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    helped = forms.TypedChoiceField(
        label=_("How well did the visit help you?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Do not write about your health here: the answers are read as statistics, not by your carer."),
    )
