"""Onboarding a care unit (SPEC §2): each step a function that checks the step before it, keeps
its date, and is audited. The coordinator of the unit's administration takes every step after
the unit's own registration of interest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Staff
from vardkontakt.notifications.models import NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.onboarding import selectors
from vardkontakt.organisation.models import (
    AdministratorTraining,
    CareUnit,
    Membership,
    MembershipRole,
    Onboarding,
)

MAX_ADMINISTRATORS = 2


def interest_register(*, data: dict[str, Any]) -> Onboarding:
    """A unit says it wants to start. Refused plainly if the unit is on the platform already or
    its interest is registered: the same unit is never onboarded twice."""
    hsa_id = data["hsa_id"]
    if CareUnit.objects.filter(hsa_id=hsa_id, live=True).exists():
        raise ValidationError(_("This unit already uses the e-services."), code="live")
    try:
        with transaction.atomic():
            onboarding = Onboarding.objects.create(**data, interest_on=timezone.localdate())
    except IntegrityError:
        raise ValidationError(_("Interest for this unit is already registered."), code="duplicate") from None
    for coordinator in onboarding.administration.coordinators.all():
        notification_create(
            recipient=coordinator, kind=NotificationKind.ONBOARDING_INTEREST, cause=f"onboarding:{onboarding.pk}"
        )
    return onboarding


def _audit(staff: Staff, onboarding: Onboarding, action: str, detail: str = "") -> None:
    audit(
        actor=Actor.of_staff(staff), action=f"onboarding.{action}", obj=onboarding, unit=onboarding.unit, detail=detail
    )


def meeting_record(*, onboarding: Onboarding, by: Staff, meeting_on: dt.date, agreed_start_on: dt.date) -> None:
    if agreed_start_on < meeting_on:
        raise ValidationError(_("The start cannot be before the information meeting."), code="order")
    if meeting_on < onboarding.interest_on:
        raise ValidationError(_("The meeting cannot be before the interest was registered."), code="order")
    onboarding.meeting_on, onboarding.agreed_start_on = meeting_on, agreed_start_on
    onboarding.save(update_fields=["meeting_on", "agreed_start_on"])
    _audit(by, onboarding, "meeting", f"{meeting_on} start {agreed_start_on}")


@transaction.atomic
def onboarding_activate(*, onboarding: Onboarding, by: Staff) -> CareUnit:
    """The unit exists from now on, out of residents' sight until it goes live."""
    if onboarding.meeting_on is None:
        raise ValidationError(_("Record the information meeting first."), code="order")
    if onboarding.activated_on:
        raise ValidationError(_("The unit is already activated."), code="done")
    unit = CareUnit.objects.filter(hsa_id=onboarding.hsa_id).first()
    if unit is None:
        unit = CareUnit.objects.create(
            administration=onboarding.administration,
            hsa_id=onboarding.hsa_id,
            name=onboarding.unit_name,
            kind=onboarding.kind,
            live=False,
        )
    onboarding.unit = unit
    onboarding.activated_on = timezone.localdate()
    onboarding.save(update_fields=["unit", "activated_on"])
    _audit(by, onboarding, "activate")
    return unit


@transaction.atomic
def administrator_appoint(*, onboarding: Onboarding, by: Staff, staff: Staff, trained_on: dt.date | None) -> None:
    if onboarding.unit is None:
        raise ValidationError(_("Activate the unit first."), code="order")
    # Two appointments at once must not both see one administrator and add a third: lock the
    # onboarding itself. (Locking the administrators' rows does not do it: count() drops FOR UPDATE,
    # and a row not yet inserted cannot be locked.)
    Onboarding.objects.select_for_update().filter(pk=onboarding.pk).values_list("pk", flat=True).get()
    appointed = onboarding.administrators.all()
    if appointed.filter(staff=staff).exists():
        raise ValidationError(_("This person is already appointed."), code="duplicate")
    if appointed.count() >= MAX_ADMINISTRATORS:
        raise ValidationError(_("A unit has one or two unit administrators."), code="too_many")
    today = timezone.localdate()
    if trained_on and trained_on > today:
        raise ValidationError(_("The training date cannot be in the future."), code="future")
    AdministratorTraining.objects.create(onboarding=onboarding, staff=staff, appointed_on=today, trained_on=trained_on)
    Membership.objects.update_or_create(staff=staff, unit=onboarding.unit, defaults={"role": MembershipRole.UNIT_ADMIN})
    _audit(by, onboarding, "appoint", staff.hsa_id)


def training_record(*, onboarding: Onboarding, by: Staff, training_id: Any, trained_on: dt.date) -> None:
    if trained_on > timezone.localdate():
        raise ValidationError(_("The training date cannot be in the future."), code="future")
    training = onboarding.administrators.filter(pk=training_id).first()
    if training is None:
        raise Http404
    training.trained_on = trained_on
    training.save(update_fields=["trained_on"])
    _audit(by, onboarding, "training", f"{training.staff.hsa_id} {trained_on}")


@transaction.atomic
def onboarding_go_live(*, onboarding: Onboarding, by: Staff) -> None:
    if onboarding.live_on:
        raise ValidationError(_("The unit is already live."), code="done")
    missing = selectors.missing_for_live(onboarding)
    if missing:
        raise ValidationError(missing, code="incomplete")
    unit = onboarding.unit
    if unit is None:  # missing_for_live has said so already; this keeps the types honest
        raise ValidationError(_("The unit is not activated."), code="order")
    unit.live = True
    unit.save(update_fields=["live"])
    onboarding.live_on = timezone.localdate()
    onboarding.save(update_fields=["live_on"])
    _audit(by, onboarding, "live")
