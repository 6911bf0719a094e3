"""Statistics pages: the unit's (its administrators), the regional view (coordinators and region
administrators) and the public response times. Each table can be downloaded as CSV."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vardkontakt.cases.models import Case
from vardkontakt.identity.decorators import StaffRequest, public, staff_required
from vardkontakt.organisation.models import Administration
from vardkontakt.usage_statistics import public as public_figures
from vardkontakt.usage_statistics import selectors
from vardkontakt.usage_statistics.periods import Period, PeriodForm, RegionalForm, parse_period, period_with_data
from vardkontakt.usage_statistics.regional_page import regional_statistics
from vardkontakt.usage_statistics.tables import chart, csv_response, hours, hours_value
from vardkontakt.usage_statistics.unit_page import unit_statistics


def _query(period: Period, **more: str) -> str:
    return urlencode({**period.query, **{k: v for k, v in more.items() if v}})


@staff_required
@require_GET
def unit(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    found = selectors.unit_for_statistics(staff=request.staff, unit_id=unit_id)
    form, period = parse_period(request.GET, default=period_with_data(Case.objects.filter(unit=found)))
    context: dict[str, Any] = {"unit": found, "form": form, "period": period}
    if period is None:
        return render(request, "usage_statistics/unit.html", context, status=400)
    context |= {"statistics": unit_statistics(found, period), "query": _query(period)}
    return render(request, "usage_statistics/unit.html", context)


@staff_required
@require_GET
def unit_csv(request: StaffRequest, unit_id: uuid.UUID, table: str) -> HttpResponse:
    found = selectors.unit_for_statistics(staff=request.staff, unit_id=unit_id)
    form, period = parse_period(request.GET)
    if period is None:
        return _bad_csv_request(form)
    chosen = unit_statistics(found, period).table(table)
    if chosen is None:
        raise Http404
    return csv_response(chosen, name=found.name, first_day=period.first_day, last_day=period.last_day)


def _regional_choice(request: StaffRequest) -> tuple[PeriodForm, Period | None, list[Administration]]:
    """The period and the administrations to count: all the viewer's, or the one chosen among them."""
    administrations = selectors.administrations_for_statistics(staff=request.staff)
    default = period_with_data(Case.objects.filter(unit__administration__in=administrations))
    form, period = parse_period(request.GET, RegionalForm, default=default, administrations=administrations)
    chosen = form.cleaned_data.get("administration") if period is not None else ""
    if chosen:
        administrations = [a for a in administrations if str(a.pk) == chosen]
    return form, period, administrations


@staff_required
@require_GET
def regional(request: StaffRequest) -> HttpResponse:
    form, period, administrations = _regional_choice(request)
    context: dict[str, Any] = {"form": form, "period": period, "administrations": administrations}
    if period is None:
        return render(request, "usage_statistics/regional.html", context, status=400)
    context |= {
        "statistics": regional_statistics(administrations, period),
        "query": _query(period, administration=form.cleaned_data.get("administration", "")),
    }
    return render(request, "usage_statistics/regional.html", context)


@staff_required
@require_GET
def regional_csv(request: StaffRequest, table: str) -> HttpResponse:
    form, period, administrations = _regional_choice(request)
    if period is None:
        return _bad_csv_request(form)
    chosen = regional_statistics(administrations, period).table(table)
    if chosen is None:
        raise Http404
    name = administrations[0].name if len(administrations) == 1 else _("region")
    return csv_response(chosen, name=name, first_day=period.first_day, last_day=period.last_day)


def _bad_csv_request(form: PeriodForm) -> HttpResponse:
    """A download link with wrong dates: the reasons as plain text (there is no page to show them on)."""
    reasons = [str(error) for errors in form.errors.values() for error in errors]
    return HttpResponse("\n".join(reasons), status=400, content_type="text/plain; charset=utf-8")


@public
@require_GET
def public_response_times(request: HttpRequest) -> HttpResponse:
    period, rows = public_figures.public_response_times()
    shown = [(row.unit.name, hours_value(row.median), hours(row.median)) for row in rows if not row.too_few]
    return render(
        request,
        "usage_statistics/public.html",
        {
            "period": period,
            "chart": chart(shown),
            "hours_label": _("hours"),
            "rows": [(row, hours(row.median)) for row in rows],
            "min_cases": public_figures.MIN_CASES,
            "days": public_figures.DAYS,
        },
    )
