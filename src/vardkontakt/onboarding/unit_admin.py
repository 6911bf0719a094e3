"""Unit administration (issue 7 §2): the unit administrator keeps the unit's contact details,
opening-hour exceptions, staff and roles, and news for colleagues in one place.

Every write is one transaction that ends with its audit entry, with the unit as the object
(these change how a unit works, not a patient's data). The unit comes from ``selectors.unit_for_admin``,
which asked the policy; what a write takes from the request beyond it (an exception, a member,
a news item) is looked up within that unit only, so another unit's is not found.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import (
    CONTACT_FIELDS,
    CareUnit,
    Membership,
    MembershipRole,
    OpeningException,
    UnitNews,
)

Row = TypeVar("Row", bound=models.Model)


def _locked(rows: QuerySet[Row], unit: CareUnit, **lookup: Any) -> Row:
    """The unit's row the request names, locked until the write commits; another unit's is not found."""
    row = rows.select_for_update().filter(unit=unit, **lookup).first()
    if row is None:
        raise Http404
    return row


def _log(by: Staff, unit: CareUnit, action: str, detail: str = "") -> None:
    audit(actor=Actor.of_staff(by), action=action, obj=unit, unit=unit, detail=detail)


@transaction.atomic
def unit_contact_save(*, unit: CareUnit, by: Staff, data: dict[str, Any]) -> None:
    for name in CONTACT_FIELDS:
        setattr(unit, name, data[name])
    unit.save(update_fields=list(CONTACT_FIELDS))
    _log(by, unit, "unit.contact")


@transaction.atomic
def opening_exception_add(*, unit: CareUnit, by: Staff, day: Any, hours: str) -> None:
    if day < timezone.localdate():
        raise ValidationError(_("Choose today or a later day."), code="past")
    try:
        with transaction.atomic():
            OpeningException.objects.create(unit=unit, day=day, hours=hours)
    except IntegrityError:
        raise ValidationError(_("That day already has its own opening hours."), code="duplicate") from None
    _log(by, unit, "unit.opening_exception", f"{day} {hours}")


@transaction.atomic
def opening_exception_remove(*, unit: CareUnit, by: Staff, exception_id: Any) -> None:
    exception = _locked(OpeningException.objects.all(), unit, pk=exception_id)
    exception.delete()
    _log(by, unit, "unit.opening_exception_removed", f"{exception.day} {exception.hours}")


@transaction.atomic
def unit_member_set(*, unit: CareUnit, by: Staff, staff: Staff, role: str) -> None:
    """Add a member or change their role; the unit never loses its last administrator."""
    if role not in MembershipRole.values:
        raise ValidationError(_("Choose a role."), code="role")
    admins = Membership.objects.select_for_update().filter(unit=unit, role=MembershipRole.UNIT_ADMIN)
    if role != MembershipRole.UNIT_ADMIN and list(admins.values_list("staff_id", flat=True)) == [staff.pk]:
        raise ValidationError(_("The unit must keep at least one unit administrator."), code="last_admin")
    Membership.objects.update_or_create(staff=staff, unit=unit, defaults={"role": role})
    _log(by, unit, "unit.member", f"{staff.hsa_id} {role}")


@transaction.atomic
def unit_member_remove(*, unit: CareUnit, by: Staff, staff_id: Any) -> None:
    membership = _locked(Membership.objects.all(), unit, staff_id=staff_id)
    admins = Membership.objects.select_for_update().filter(unit=unit, role=MembershipRole.UNIT_ADMIN)
    if membership.role == MembershipRole.UNIT_ADMIN and admins.count() == 1:
        raise ValidationError(_("The unit must keep at least one unit administrator."), code="last_admin")
    membership.delete()
    _log(by, unit, "unit.member_removed", str(staff_id))


@transaction.atomic
def unit_news_publish(*, unit: CareUnit, by: Staff, title: str, body: str) -> UnitNews:
    news = UnitNews.objects.create(unit=unit, author=by, title=title, body=body, published_at=timezone.now())
    _log(by, unit, "unit.news", f"{news.pk} {title}")
    return news


@transaction.atomic
def unit_news_remove(*, unit: CareUnit, by: Staff, news_id: Any) -> None:
    news = _locked(UnitNews.objects.all(), unit, pk=news_id)
    news.delete()
    _log(by, unit, "unit.news_removed", f"{news_id} {news.title}")
