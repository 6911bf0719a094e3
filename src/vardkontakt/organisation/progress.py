"""How far a unit's onboarding has come: read by the onboarding workflow and by the statistics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from vardkontakt.organisation.models import Onboarding

TARGET_DAYS = 30  # the seed's aim: live within a month of the interest (SPEC §2); Region.onboarding_target_days


@dataclass(frozen=True)
class Progress:
    onboarding: Onboarding
    stage: str
    days: int  # since the interest, or until live
    late: bool


def stage_of(onboarding: Onboarding) -> str:
    if onboarding.live_on:
        return _("live")
    if onboarding.activated_on:
        return _("activated")
    if onboarding.meeting_on:
        return _("information meeting held")
    return _("interest registered")


def progress(onboarding: Onboarding, today: dt.date) -> Progress:
    end = onboarding.live_on or today
    days = (end - onboarding.interest_on).days
    # Each onboarding is judged by its own region's target (set on the region's rules page).
    return Progress(
        onboarding, stage_of(onboarding), days, days > onboarding.administration.region.onboarding_target_days
    )
