"""The period a statistics page shows: two calendar dates in Europe/Stockholm, both included.

A period from 1 to 31 October is the instants from 00:00 Stockholm time on 1 October up to (not
including) 00:00 on 1 November, so a case received at 23:59 on 31 October belongs to October and
one received one minute later to November, whatever the UTC date, and the October with the clock
change is 745 hours long. Without dates the page shows the last full calendar month, or the last
30 days when nothing was received in that month (``period_with_data``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.organisation.models import Administration

# A bound on one request's work: three years of a unit's cases is still a bounded index range.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date

    # As UTC instants: Python subtracts two datetimes of the same zone by their wall clocks, so
    # Stockholm-zoned bounds would make an October with the clock change look 31 days long.
    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=STOCKHOLM).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The instant just after the period: local midnight after its last day."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=STOCKHOLM).astimezone(
            dt.UTC
        )

    @property
    def query(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


def last_full_month(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    last_day = today.replace(day=1) - dt.timedelta(days=1)
    return Period(last_day.replace(day=1), last_day)


def days_back(days: int, today: dt.date | None = None) -> Period:
    """The ``days`` days up to and including today."""
    today = today or timezone.localdate()
    return Period(today - dt.timedelta(days=days - 1), today)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``, both given (parse_period fills in the default)."""

    # A filter: every box may stay empty, so none is marked "(optional)".
    hide_optional_marker = True

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        date_error = {"invalid": _("Enter the date as year-month-day, for example 2026-10-31.")}
        # "from" is a Python keyword, so the fields are named here rather than as attributes.
        self.fields["from"] = forms.DateField(
            label=_("From"), required=False, input_formats=["%Y-%m-%d"], widget=DateInput(), error_messages=date_error
        )
        self.fields["to"] = forms.DateField(
            label=_("To, inclusive"),
            required=False,
            input_formats=["%Y-%m-%d"],
            widget=DateInput(),
            error_messages=date_error,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("from"), data.get("to")
        if self.errors:
            return data
        if (first is None) != (last is None):
            missing = "from" if first is None else "to"
            self.add_error(missing, _("Give both the first and the last day of the period."))
        elif first is not None and last is not None:
            if first > last:
                self.add_error("to", _("The last day cannot be before the first day."))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("to", _("Choose a period of at most three years."))
        return data

    def period(self) -> Period:
        """The chosen period; call after is_valid()."""
        return Period(self.cleaned_data["from"], self.cleaned_data["to"])


def period_with_data(received: Any) -> Period:
    """The period a page opens on: the last full month when anything was received in it, else the
    last 30 days (a unit new to the e-services, or a demo loaded this month), so that the page opens
    on figures rather than on zeros. ``received`` is a queryset of the cases the page counts."""
    month = last_full_month()
    if received.filter(received_at__gte=month.start, received_at__lt=month.end).exists():
        return month
    return days_back(30)


def parse_period(
    query: Any, form_class: type[PeriodForm] = PeriodForm, *, default: Period | None = None, **kwargs: Any
) -> tuple[PeriodForm, Period | None]:
    """The bound form to show and the period it chose: ``default`` (else the last full month) when
    neither date is given, None when the input is wrong (the page then says why, with status 400)."""
    data = {key: query.get(key, "") for key in query}
    if not data.get("from") and not data.get("to"):
        default = default or last_full_month()
        data |= {"from": default.first_day.isoformat(), "to": default.last_day.isoformat()}
    form = form_class(data, **kwargs)
    if not form.is_valid():
        return form, None
    return form, form.period()


class RegionalForm(PeriodForm):
    """The period, and optionally one of the administrations the viewer may see."""

    def __init__(self, data: Any = None, *, administrations: Sequence[Administration] = (), **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["administration"] = forms.ChoiceField(
            label=_("Administration"),
            required=False,
            choices=[("", _("All your administrations")), *((str(a.pk), a.name) for a in administrations)],
        )
