"""The e-services' support contact: the region's phone and e-mail, and the hours support answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext as _

from vardkontakt.core.degraded import cache_quietly, cached
from vardkontakt.organisation.models import Region

# The seed's hours (SPEC §8): weekdays 06–22, the footer's words. Each region keeps its own
# (Region.support_opens/closes, set on its rules page), shown beside its contact on the support page.
SUPPORT_OPENS = dt.time(6, 0)
SUPPORT_CLOSES = dt.time(22, 0)


@dataclass(frozen=True)
class SupportContact:
    region: str
    phone: str
    email: str
    hours: str = ""


def support_hours(opens: dt.time = SUPPORT_OPENS, closes: dt.time = SUPPORT_CLOSES) -> str:
    """In words, lower case (it also ends a sentence in the footer): "weekdays 06–22"."""
    return _("weekdays %(opens)s–%(closes)s") % {"opens": _clock(opens), "closes": _clock(closes)}


FOOTER_HOURS_KEY = "operations:footer-support-hours"
FOOTER_HOURS_SECONDS = 300


def footer_support_hours() -> str:
    """The hours the footer of every page shows: the regions' own (their rules pages), when every
    region of the installation keeps the same ones, as an installation with one region does; ""
    when they differ (the support page lists each region's). The times are cached for a few
    minutes, and forgotten when a region is saved (receivers), so a page costs no query for them;
    the words are made per request, in the reader's language."""
    kept = cached(FOOTER_HOURS_KEY)
    if kept is None:
        found = set(Region.objects.values_list("support_opens", "support_closes").distinct()[:2])
        kept = found.pop() if len(found) == 1 else () if found else (SUPPORT_OPENS, SUPPORT_CLOSES)
        cache_quietly(FOOTER_HOURS_KEY, kept, FOOTER_HOURS_SECONDS)
    return support_hours(*kept) if kept else ""


def footer_support_hours_forget() -> None:
    cache.delete(FOOTER_HOURS_KEY)


def _clock(moment: dt.time) -> str:
    return moment.strftime("%H") if moment.minute == 0 else moment.strftime("%H:%M")


def support_contacts() -> list[SupportContact]:
    """Each region's support contact (one region per installation; more are listed by name)."""
    regions = Region.objects.order_by("name").only(
        "name", "support_phone", "support_email", "support_opens", "support_closes"
    )
    return [
        SupportContact(
            region.name,
            region.support_phone,
            region.support_email,
            support_hours(region.support_opens, region.support_closes),
        )
        for region in regions
        if region.support_phone or region.support_email
    ]
