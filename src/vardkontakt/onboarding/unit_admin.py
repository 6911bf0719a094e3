"""Unit administration (issue 7 §2): the unit administrator keeps the unit's contact details,
opening-hour exceptions, staff and roles, and news for colleagues in one place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access import policy
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


def unit_for_admin(*, staff: Staff, unit_id: Any) -> CareUnit:
    """Another unit is not found; a member who is not its administrator is refused."""
    unit = CareUnit.objects.filter(pk=unit_id).select_related("administration").first()
    if unit is None or not policy.is_member(staff, unit):
        raise Http404
    if not policy.is_unit_admin(staff, unit):
        raise PermissionDenied
    return unit


def contact_save(*, unit: CareUnit, by: Staff, data: dict[str, Any]) -> None:
    for name in CONTACT_FIELDS:
        setattr(unit, name, data[name])
    unit.save(update_fields=list(CONTACT_FIELDS))
    audit(actor=Actor.of_staff(by), action="unit.contact", obj=unit, unit=unit)


def exception_add(*, unit: CareUnit, by: Staff, day: Any, hours: str) -> None:
    if day < timezone.localdate():
        raise ValidationError(_("Choose today or a later day."), code="past")
    try:
        with transaction.atomic():
            OpeningException.objects.create(unit=unit, day=day, hours=hours)
    except IntegrityError:
        raise ValidationError(_("That day already has its own opening hours."), code="duplicate") from None
    audit(actor=Actor.of_staff(by), action="unit.opening_exception", obj=unit, unit=unit, detail=f"{day} {hours}")


def exception_remove(*, unit: CareUnit, by: Staff, exception_id: Any) -> None:
    removed, _ = OpeningException.objects.filter(unit=unit, pk=exception_id).delete()
    if not removed:
        raise Http404


@transaction.atomic
def member_set(*, unit: CareUnit, by: Staff, staff: Staff, role: str) -> None:
    """Add a member or change their role; the unit never loses its last administrator."""
    if role not in MembershipRole.values:
        raise ValidationError(_("Choose a role."), code="role")
    admins = Membership.objects.select_for_update().filter(unit=unit, role=MembershipRole.UNIT_ADMIN)
    if role != MembershipRole.UNIT_ADMIN and list(admins.values_list("staff_id", flat=True)) == [staff.pk]:
        raise ValidationError(_("The unit must keep at least one unit administrator."), code="last_admin")
    Membership.objects.update_or_create(staff=staff, unit=unit, defaults={"role": role})
    audit(actor=Actor.of_staff(by), action="unit.member", obj=unit, unit=unit, detail=f"{staff.hsa_id} {role}")


@transaction.atomic
def member_remove(*, unit: CareUnit, by: Staff, staff_id: Any) -> None:
    membership = Membership.objects.select_for_update().filter(unit=unit, staff_id=staff_id).first()
    if membership is None:
        raise Http404
    admins = Membership.objects.select_for_update().filter(unit=unit, role=MembershipRole.UNIT_ADMIN)
    if membership.role == MembershipRole.UNIT_ADMIN and admins.count() == 1:
        raise ValidationError(_("The unit must keep at least one unit administrator."), code="last_admin")
    membership.delete()
    audit(actor=Actor.of_staff(by), action="unit.member_removed", obj=unit, unit=unit, detail=str(staff_id))


def news_publish(*, unit: CareUnit, by: Staff, title: str, body: str) -> UnitNews:
    return UnitNews.objects.create(unit=unit, author=by, title=title, body=body, published_at=timezone.now())


def news_remove(*, unit: CareUnit, news_id: Any) -> None:
    removed, _ = UnitNews.objects.filter(unit=unit, pk=news_id).delete()
    if not removed:
        raise Http404


def coming_exceptions(unit: CareUnit, days: int = 30) -> list[OpeningException]:
    today = timezone.localdate()
    return list(unit.opening_exceptions.filter(day__gte=today, day__lte=today + dt.timedelta(days=days)))
