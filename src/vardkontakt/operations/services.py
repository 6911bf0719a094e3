"""Every write of the operations app: publishing operational messages and recording logins."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.identity.numbers import normalise_hsa_id, normalise_personnummer
from vardkontakt.identity.oidc import Refusal, Side
from vardkontakt.operations import selectors
from vardkontakt.operations.models import (
    Audience,
    LoginOutcome,
    LoginRecord,
    LoginSide,
    MessageKind,
    OperationalMessage,
)
from vardkontakt.organisation.models import Region

logger = logging.getLogger(__name__)

NOT_CURRENT = _("Only a message that is shown now can be ended. Change the times of a coming message instead.")


@transaction.atomic
def message_create(
    *,
    region: Region,
    by: Staff,
    kind: MessageKind,
    title: str,
    text: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    audience: Audience,
    idempotency_key: str,
) -> OperationalMessage:
    """Publish a message; the same key publishes it once (a resent form returns the first).

    An empty key is refused: every publication without one would be "the same" as the first."""
    if not idempotency_key:
        raise ValidationError(_("The form has expired. Please fill it in again."), code="no_key")
    existing = OperationalMessage.objects.filter(idempotency_key=idempotency_key, region=region).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            message = OperationalMessage.objects.create(
                region=region,
                kind=kind,
                title=title,
                text=text,
                starts_at=starts_at,
                ends_at=ends_at,
                audience=audience,
                created_by=by,
                created_at=now,
                updated_by=by,
                updated_at=now,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # The same form sent twice at the same moment: the other request published it.
        return OperationalMessage.objects.get(idempotency_key=idempotency_key, region=region)
    logger.info("operational message %s published by staff %s", message.id, by.id)
    return message


@transaction.atomic
def message_update(
    *,
    message: OperationalMessage,
    by: Staff,
    kind: MessageKind,
    title: str,
    text: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    audience: Audience,
) -> OperationalMessage:
    message.kind = kind
    message.title = title
    message.text = text
    message.starts_at = starts_at
    message.ends_at = ends_at
    message.audience = audience
    message.updated_by = by
    message.updated_at = timezone.now()
    message.save(
        update_fields=["kind", "title", "text", "starts_at", "ends_at", "audience", "updated_by", "updated_at"]
    )
    return message


@transaction.atomic
def message_end(*, message: OperationalMessage, by: Staff, now: dt.datetime | None = None) -> OperationalMessage:
    """End a current message now. One conditional UPDATE, so two admins ending it at once end it once."""
    now = now or timezone.now()
    ended = OperationalMessage.objects.filter(pk=message.pk, starts_at__lte=now, ends_at__gt=now).update(
        ends_at=now, updated_by=by, updated_at=now
    )
    if not ended:
        raise ValidationError(NOT_CURRENT, code="not_current")
    selectors.forget_messages_now_and_at_commit()  # an UPDATE sends no signal to the banner
    message.refresh_from_db(fields=["ends_at", "updated_by", "updated_at"])
    return message


# --- logins ---------------------------------------------------------------------------------------


def login_record(*, user: User, acr: str) -> LoginRecord:
    """A completed login (called by the OIDC callback once the session is the person's)."""
    if user.is_staff_member:
        return LoginRecord.objects.create(
            staff=user.staff, side=LoginSide.SITHS, acr=acr, at=timezone.now(), outcome=LoginOutcome.SUCCEEDED
        )
    return LoginRecord.objects.create(
        patient=user.patient, side=LoginSide.EID, acr=acr, at=timezone.now(), outcome=LoginOutcome.SUCCEEDED
    )


def login_refusal_record(*, side: Side, subject: str, reason: Refusal, acr: str = "") -> LoginRecord | None:
    """A refused login of a person we already know; nothing for anyone else.

    ``subject`` must come from an ID token whose signature, issuer and audience were verified:
    only then is it who tried. Nobody is created here, and a number that names nobody is dropped,
    so a refusal never registers a person or stores a number we do not hold already.
    """
    now = timezone.now()
    try:
        if side is Side.RESIDENT:
            patient = Patient.objects.filter(personnummer=normalise_personnummer(subject)).first()
            if patient is None:
                return None
            return LoginRecord.objects.create(
                patient=patient, side=LoginSide.EID, acr=acr[:200], at=now, outcome=LoginOutcome.REFUSED, reason=reason
            )
        staff = Staff.objects.filter(hsa_id=normalise_hsa_id(subject)).first()
    except ValidationError:
        return None
    if staff is None:
        return None
    return LoginRecord.objects.create(
        staff=staff, side=LoginSide.SITHS, acr=acr[:200], at=now, outcome=LoginOutcome.REFUSED, reason=reason
    )
