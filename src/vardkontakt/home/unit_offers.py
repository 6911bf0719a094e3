"""What each of a resident's units offers through the e-services, for the cards on the start page:
its active services (cases) and whether it books online (Tidbok online)."""

from __future__ import annotations

from dataclasses import dataclass

from vardkontakt.booking.models import VisitType
from vardkontakt.cases.models import Service
from vardkontakt.organisation.models import CareUnit


@dataclass(frozen=True)
class UnitOffer:
    unit: CareUnit
    services: list[Service]
    books_online: bool

    @property
    def offers_anything(self) -> bool:
        return bool(self.services) or self.books_online


def unit_offers(units: list[CareUnit]) -> list[UnitOffer]:
    """Each unit with its offer, in two queries whatever the number of units. Public facts about the
    units (the same the unit directory shows), so no patient data is read here."""
    by_unit: dict[object, list[Service]] = {unit.pk: [] for unit in units}
    for service in Service.objects.filter(unit__in=units, active=True).order_by("name"):
        by_unit[service.unit_id].append(service)
    online = set(
        VisitType.objects.filter(unit__in=units, bookable_online=True, active=True).values_list("unit_id", flat=True)
    )
    return [UnitOffer(unit=unit, services=by_unit[unit.pk], books_online=unit.pk in online) for unit in units]
