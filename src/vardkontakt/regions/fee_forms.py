"""The region's fees page (issue 19 §1): a change of the fee schedule from a later day, and the
region's fee rules, each with its default and the law's bound. The bounds are checked here; the
services in ``fees`` store what passed (and refuse a change dated today or earlier in any case)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.fees.models import STATUTORY_CEILING, FeeKind
from vardkontakt.organisation.models import UnitKind
from vardkontakt.regions.rule_forms import DateInput

# The law makes visits free from 85 (Hälso- och sjukvårdslagen, from 1 January 2017): a region may
# choose a lower age, never a higher one, nor none.
STATUTORY_FREE_FROM_AGE = 85


class FeeChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Fee kind"), choices=FeeKind.choices)
    unit_kind = forms.ChoiceField(
        label=_("Kind of unit"),
        choices=[("", _("Every kind of unit without a fee of its own")), *UnitKind.choices],
        required=False,
        help_text=_("A fee for one kind of unit goes before the general fee of the same kind."),
    )
    amount = forms.DecimalField(
        label=_("Amount (kronor)"), min_value=Decimal(0), max_digits=9, decimal_places=2, localize=True
    )
    counts = forms.BooleanField(
        label=_("Counts toward the high-cost protection"),
        required=False,
        help_text=_(
            "Default: yes. Missed visits, certificates, vaccinations, other preventive care and copies of the "
            "record usually do not count."
        ),
    )
    effective_from = forms.DateField(
        label=_("In force from"),
        widget=DateInput(),
        help_text=_("Tomorrow at the earliest: a fee never changes for a day already begun."),
    )

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean_effective_from(self) -> dt.date:
        day: dt.date = self.cleaned_data["effective_from"]
        if day <= self.today:
            raise forms.ValidationError(_("A fee can change from tomorrow or a later day, never before."))
        return day


class FeeRulesForm(forms.Form):
    ceiling = forms.DecimalField(
        label=_("High-cost ceiling (kronor)"),
        min_value=Decimal(0),
        max_digits=9,
        decimal_places=2,
        localize=True,
        help_text=_(
            "Default: 1 400 kronor in 12 months. Bound by law: at most the statutory maximum, 1 400 kronor "
            "(Hälso- och sjukvårdslagen 17 kap. 6 §); a region may choose less. A period already begun keeps "
            "the ceiling it began with."
        ),
    )
    free_under_age = forms.IntegerField(
        label=_("Visits free of charge under the age of"),
        help_text=_(
            "Default: 20. The region's choice, between 0 (no such exemption) and the age visits are free from."
        ),
    )
    free_from_age = forms.IntegerField(
        label=_("Visits free of charge from the age of"),
        help_text=_(
            "Default: 85. Bound by law: outpatient visits are free from 85 in every region (since 2017); "
            "a region may choose a lower age, between 1 and 85."
        ),
    )
    missed_visit_hours = forms.IntegerField(
        label=_("Cancel at least this many hours before, or pay the missed-visit fee"),
        help_text=_("Default: 24 hours. Between 1 and 168 (a week)."),
    )
    missed_visit_fee_age_exempt_under = forms.IntegerField(
        label=_("No missed-visit fee under the age of"),
        help_text=_(
            "Default: 20. The visits' age exemptions do not apply to the missed-visit fee: it is charged from "
            "this age, at 85 and over too. Between 0 (charged at every age) and 20."
        ),
    )

    def clean_ceiling(self) -> Decimal:
        value: Decimal = self.cleaned_data["ceiling"]
        if value > STATUTORY_CEILING:
            raise forms.ValidationError(_("At most the statutory maximum of 1 400 kronor."))
        return value

    def clean_free_under_age(self) -> int:
        return _between(self.cleaned_data["free_under_age"], 0, STATUTORY_FREE_FROM_AGE - 1)

    def clean_free_from_age(self) -> int:
        return _between(self.cleaned_data["free_from_age"], 1, STATUTORY_FREE_FROM_AGE)

    def clean_missed_visit_hours(self) -> int:
        return _between(self.cleaned_data["missed_visit_hours"], 1, 168)

    def clean_missed_visit_fee_age_exempt_under(self) -> int:
        return _between(self.cleaned_data["missed_visit_fee_age_exempt_under"], 0, 20)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        under, from_ = data.get("free_under_age"), data.get("free_from_age")
        if under is not None and from_ is not None and under >= from_:
            self.add_error("free_under_age", _("Below the age visits are free from."))
        return data


def _between(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise forms.ValidationError(_("Choose between %(low)s and %(high)s.") % {"low": low, "high": high})
    return int(value)
