"""The e-services' support contact: the region's phone and e-mail, and the hours support answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from vardkontakt.organisation.models import Region

# The seed's hours (SPEC §8): weekdays 06–22. A constant rather than a Region field because the
# organisation models are being changed elsewhere; move it beside Region.support_phone when a
# region needs other hours.
SUPPORT_OPENS = dt.time(6, 0)
SUPPORT_CLOSES = dt.time(22, 0)


@dataclass(frozen=True)
class SupportContact:
    region: str
    phone: str
    email: str


def support_hours() -> str:
    """In words, lower case (it also ends a sentence in the footer): "weekdays 06–22"."""
    return _("weekdays %(opens)s–%(closes)s") % {
        "opens": SUPPORT_OPENS.strftime("%H"),
        "closes": SUPPORT_CLOSES.strftime("%H"),
    }


def support_contacts() -> list[SupportContact]:
    """Each region's support contact (one region per installation; more are listed by name)."""
    regions = Region.objects.order_by("name").only("name", "support_phone", "support_email")
    return [
        SupportContact(region.name, region.support_phone, region.support_email)
        for region in regions
        if region.support_phone or region.support_email
    ]
