"""Issue 16 item 26: the staff start page and the header lead to the inbox, with how many cases are
unassigned and how many overdue, per unit and in all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.inbox_counts import inbox_counts_for_staff
from vardkontakt.cases.models import Case, CaseStatus
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db


def staff_client(staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def test_the_start_page_shows_each_units_unassigned_and_overdue_cases(personas, tolvans_case, unit_x):
    Case.objects.filter(pk=tolvans_case.pk).update(deadline_passes_at=timezone.now() - dt.timedelta(minutes=1))
    page = staff_client(personas.staff_x).get("/staff/").text
    inbox = f"/staff/units/{unit_x.id}/inbox/"
    assert f'<a href="{inbox}?list=unassigned">1 ej tilldelat' in page
    assert f'<a class="vk-overdue" href="{inbox}?list=overdue"><strong>1 försenat</strong>' in page
    # The header, on every staff page, leads to the inbox of the one unit staff X works in.
    settings_page = staff_client(personas.staff_x).get("/staff/settings/").text
    assert (
        f'<a class="nhsuk-header__account-link" href="{inbox}">Inkorg: 1 ej tilldelat, 1 försenat</a>' in settings_page
    )


def test_an_assigned_answered_or_closed_case_is_not_counted(personas, tolvans_case, unit_x):
    Case.objects.filter(pk=tolvans_case.pk).update(assigned_to=personas.staff_x)
    assert [(c.unassigned, c.overdue) for c in inbox_counts_for_staff(staff=personas.staff_x)] == [(0, 0)]
    Case.objects.filter(pk=tolvans_case.pk).update(
        assigned_to=None, status=CaseStatus.CLOSED, closed_at=timezone.now(), deadline_passes_at=timezone.now()
    )
    assert [(c.unassigned, c.overdue) for c in inbox_counts_for_staff(staff=personas.staff_x)] == [(0, 0)]


def test_other_units_cases_are_not_counted_and_the_figures_log_nothing(personas, tolvans_case):
    """A nurse at another unit: Lindängen's case is not theirs to count. Figures name nobody,
    so showing them reads no patient's data and logs nothing."""
    before = AuditEntry.objects.count()
    page = staff_client(personas.nurse_elsewhere).get("/staff/").text
    assert "Inkorg: 0 ej tilldelade" in page
    assert "försenat" not in page
    assert AuditEntry.objects.count() == before


def test_residents_see_no_inbox_link(personas, tolvans_case):
    page = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan)).get("/patient/").text
    assert "Inkorg" not in page
