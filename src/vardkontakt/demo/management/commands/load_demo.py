"""Build the demo region. Idempotent: a second run changes nothing and creates nothing twice."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from vardkontakt.access import services as access_services
from vardkontakt.access.models import AuditEntry, Guardianship, ProxyStatus
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Service
from vardkontakt.cases.questions import answers_for_storage
from vardkontakt.cases.services import case_create, service_activate
from vardkontakt.demo import demo_data
from vardkontakt.demo.models import DemoInstallation
from vardkontakt.fees.models import FeeRules, FeeSchedule
from vardkontakt.fhir.auth import all_scopes, client_create
from vardkontakt.fhir.importer import Sender, import_bundle
from vardkontakt.identity.models import Patient, Profession, Staff, User
from vardkontakt.organisation.models import (
    Administration,
    CareUnit,
    Listing,
    Membership,
    MembershipRole,
    Region,
    RegionRole,
    RegionRoleKind,
)

OTHER_PATIENTS = 37
DEMO_CLIENT_ID = "demo-journal"
DEMO_CLIENT_SECRET = "demo-journal-secret"  # noqa: S105 (the demo only, documented in the README)
STAFF_COUNT = 30


class Command(BaseCommand):
    help = "Load the demo region (Region Skåne with invented units, staff and residents)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-activity",
            action="store_true",
            help="Build the region without the demo's cases and record entries (the tests start quiet).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        self._claim_database()
        today = timezone.localdate()
        region, _ = Region.objects.update_or_create(
            name=demo_data.REGION_NAME,
            defaults={
                "service_name": "Vårdkontakt",
                "staff_service_name": "Vårdkontakt för vårdpersonal",
                "support_phone": "0771-00 00 00",
                "support_email": "support@vardkontakt.example",
                "archive_phone": "040-00 00 01",
                "archive_address": "Regionarkivet, Box 100, 211 00 Malmö",
                "archive_hours": "Vardagar 9–12 och 13–15",
            },
        )
        administrations = {
            name: Administration.objects.get_or_create(region=region, name=name)[0]
            for name in demo_data.ADMINISTRATIONS
        }
        units = []
        for spec in demo_data.UNITS:
            unit, _ = CareUnit.objects.update_or_create(
                hsa_id=demo_data.unit_hsa_id(spec.code),
                defaults={
                    "administration": administrations[spec.administration],
                    "name": spec.name,
                    "kind": spec.kind,
                    "street_address": spec.street,
                    "postal_code": spec.postal_code,
                    "city": spec.city,
                    "phone": spec.phone,
                    "opening_hours": demo_data.OPENING_HOURS,
                    "website": f"https://vardkontakt.example/enheter/{spec.code.lower()}",
                },
            )
            units.append(unit)

        self._fees(region, today)
        staff_members = self._staff(units)
        self._roles(region, administrations, staff_members)
        patients = self._patients(today)
        self._listings(patients, units, today)
        self._access(today, units)
        self._services_and_cases(today, units, with_cases=not options["no_activity"])
        if not options["no_activity"]:
            self._record(today, units)
            self._appointment_books(today, units, patients)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo region ready: {CareUnit.objects.count()} units, {Staff.objects.count()} staff, "
                f"{Patient.objects.count()} residents."
            )
        )

    def _fees(self, region: Region, today: dt.date) -> None:
        """The region's fee rules and schedule (seeded as they stand: the page's and
        ``fee_schedule_set``'s rule of changes from tomorrow only is for changes, not the seed)."""
        FeeRules.objects.update_or_create(region=region, defaults=demo_data.FEE_RULES)
        since = dt.date(today.year, 1, 1)
        for kind, unit_kind, kronor, counts in demo_data.FEE_SCHEDULE:
            FeeSchedule.objects.update_or_create(
                region=region,
                kind=kind,
                unit_kind=unit_kind,
                effective_from=since,
                defaults={"amount": Decimal(kronor), "counts_toward_ceiling": counts},
            )

    def _claim_database(self) -> None:
        """Only a demo installation gets the demo: an empty database (marked now) or one this
        command marked before. A database with data and no marker is a real one, and refused."""
        if not settings.DEMO:
            raise CommandError("load_demo only runs in a demo installation: set VK_DEMO=true (`make demo` does).")
        if DemoInstallation.objects.exists():
            return
        holding = [
            model._meta.verbose_name_plural
            for model in (Region, CareUnit, Staff, Patient, User, AuditEntry)
            if model._default_manager.exists()
        ]
        if holding:
            raise CommandError(
                "This database is not a demo installation: it holds "
                + ", ".join(str(name) for name in holding)
                + " and carries no demo marker. load_demo only builds the demo in an empty database (or one it "
                "built before). For the demo, point DATABASE_URL (or VK_VAR_DIR) at a new database."
            )
        DemoInstallation.objects.create(marked_at=timezone.now())

    def _staff(self, units: list[CareUnit]) -> list[Staff]:
        staff_members = []
        for number in range(1, STAFF_COUNT + 1):
            index = number - 1
            staff, _ = Staff.objects.update_or_create(
                hsa_id=demo_data.staff_hsa_id(number),
                defaults={
                    "given_name": demo_data.GIVEN_NAMES[(index * 7) % len(demo_data.GIVEN_NAMES)],
                    "family_name": demo_data.FAMILY_NAMES[index % len(demo_data.FAMILY_NAMES)],
                    "profession": demo_data.STAFF_PROFESSIONS[index % len(demo_data.STAFF_PROFESSIONS)],
                },
            )
            staff_members.append(staff)
            # Two or three staff per unit; the first member of each unit administers it.
            unit = units[index % len(units)]
            role = MembershipRole.UNIT_ADMIN if index < len(units) else MembershipRole.STAFF
            Membership.objects.get_or_create(staff=staff, unit=unit, defaults={"role": role})
        by_code = {unit.hsa_id: unit for unit in units}
        for named in demo_data.NAMED_STAFF:
            staff, _ = Staff.objects.update_or_create(
                hsa_id=demo_data.staff_hsa_id(named.number),
                defaults={
                    "given_name": named.given_name,
                    "family_name": named.family_name,
                    "profession": named.profession,
                },
            )
            unit = by_code[demo_data.unit_hsa_id(named.unit_code)]
            Membership.objects.get_or_create(staff=staff, unit=unit, defaults={"role": MembershipRole.STAFF})
        return staff_members

    def _roles(self, region: Region, administrations: dict[str, Administration], staff: list[Staff]) -> None:
        coordinators = staff[-5:]
        for administration, coordinator in zip(administrations.values(), coordinators, strict=True):
            administration.coordinators.add(coordinator)
        for member, role in [
            (staff[-6], RegionRoleKind.REGION_ADMIN),
            (staff[-7], RegionRoleKind.ARCHIVIST),
            (staff[-8], RegionRoleKind.SUPPORT),
        ]:
            RegionRole.objects.get_or_create(region=region, staff=member, role=role)
        # Administrative roles belong to administrative professions.
        Staff.objects.filter(pk__in=[s.pk for s in staff[-8:]]).update(profession=Profession.ADMINISTRATOR)

    def _patients(self, today: Any) -> list[Patient]:
        patients = []
        for person in demo_data.named_people(today):
            # A persona's birth date follows the day of loading (their ages stay the same), so a
            # later run finds them by name and moves their number rather than adding a twin.
            patient, _ = Patient.objects.update_or_create(
                given_name=person.given_name,
                family_name=person.family_name,
                defaults={"personnummer": person.personnummer},
            )
            if patient.user_id:
                User.objects.filter(pk=patient.user_id).update(login_key=f"patient:{patient.personnummer}")
            patients.append(patient)
        for person in demo_data.other_people(today, OTHER_PATIENTS):
            patient, _ = Patient.objects.update_or_create(
                personnummer=person.personnummer,
                defaults={"given_name": person.given_name, "family_name": person.family_name},
            )
            patients.append(patient)
        return patients

    def _access(self, today: Any, units: list[CareUnit]) -> None:
        """Guardianships, proxies, a blocked guardian, a protected child and a sealed record."""
        people = {person.role: person for person in demo_data.named_people(today)}
        by_role = {role: Patient.objects.get(personnummer=person.personnummer) for role, person in people.items()}
        Patient.objects.filter(pk=by_role["protected_child"].pk).update(protected_identity=True)
        pairs = [(people[g].personnummer, people[c].personnummer) for g, c in demo_data.GUARDIANSHIPS]
        access_services.guardianships_import(pairs=pairs)

        blocked = Guardianship.objects.get(guardian=by_role["blocked_guardian"], child=by_role["blocked_child"])
        unit_head = Membership.objects.filter(
            unit__listings__patient=by_role["blocked_child"], role=MembershipRole.UNIT_ADMIN
        ).first()
        if unit_head is not None:
            access_services.guardianship_block(
                guardianship=blocked, by=unit_head.staff, reason="Demo: beslut av verksamhetschef efter orosanmälan."
            )

        gunnel, maria, kent = by_role["elderly"], by_role["proxy"], by_role["revoked_proxy"]
        active = access_services.proxy_invite(
            principal=gunnel,
            agent_personnummer=maria.personnummer,
            scope_record=True,
            scope_cases=True,
            scope_bookings=True,
            expires_on=None,
            idempotency_key="demo-proxy-gunnel-maria",
        )
        if active.status == ProxyStatus.INVITED:
            access_services.proxy_respond(proxy=active, agent=maria, accept=True)
        revoked = access_services.proxy_invite(
            principal=gunnel,
            agent_personnummer=kent.personnummer,
            scope_record=False,
            scope_cases=True,
            scope_bookings=False,
            expires_on=None,
            idempotency_key="demo-proxy-gunnel-kent",
        )
        if revoked.status == ProxyStatus.INVITED:
            access_services.proxy_respond(proxy=revoked, agent=kent, accept=True)
            access_services.proxy_revoke(proxy=revoked, by=gunnel)
        access_services.record_seal(patient=by_role["sealed"])

    def _services_and_cases(self, today: Any, units: list[CareUnit], *, with_cases: bool) -> None:
        """Every unit offers most of the seed's services; a few residents have cases in flight."""
        offered = [
            ServiceKind.CONTACT_ME,
            ServiceKind.ADVICE,
            ServiceKind.REQUEST_APPOINTMENT,
            ServiceKind.CANCEL_REBOOK,
            ServiceKind.RENEW_PRESCRIPTION,
            ServiceKind.TEST_RESULTS,
            ServiceKind.REQUEST_CERTIFICATE,
        ]
        for unit in units:
            head = Membership.objects.filter(unit=unit, role=MembershipRole.UNIT_ADMIN).select_related("staff").first()
            if head is None:
                continue
            for kind in offered:
                service_activate(unit=unit, kind=kind, by=head.staff)
        if not with_cases:
            return
        people = {
            person.role: Patient.objects.get(personnummer=person.personnummer)
            for person in demo_data.named_people(today)
        }
        lindangen = units[0]
        advice = Service.objects.get(unit=lindangen, kind=ServiceKind.ADVICE)
        for key, actor, subject, text in [
            (
                "demo-case-tolvan",
                people["patient"],
                people["patient"],
                "Jag har haft ont i halsen i en vecka. Behöver jag komma in?",
            ),
            (
                "demo-case-gunnel",
                people["proxy"],
                people["elderly"],
                "Mamma har fått nya tabletter och mår illa. Vad ska vi göra?",
            ),
        ]:
            case_create(
                actor=actor,
                subject=subject,
                service=advice,
                answers=answers_for_storage(advice.questions, {"what": text}),
                idempotency_key=key,
            )

    def _record(self, today: Any, units: list[CareUnit]) -> None:
        """A little record for Tolvan, the 9-year-old and Gunnel, sent the way the journal, lab and
        pharmacy systems send it: as FHIR transaction Bundles through the import."""
        for source, data in demo_data.record_bundles(today, units[0].hsa_id, units[6].hsa_id).items():
            import_bundle(data, sender=Sender(source))
        if settings.DEMO:
            # A known secret for the README's curl examples: only ever in the demo.
            client_create(
                client_id=DEMO_CLIENT_ID,
                name="Demo journal system",
                source_system="demo-journal",
                scopes=all_scopes(),
                units=units,
                secret=DEMO_CLIENT_SECRET,
            )

    def _appointment_books(self, today: Any, units: list[CareUnit], patients: list[Patient]) -> None:
        """Online booking at the first two primary care units: weekly schedules rolled to the
        horizon, some slots kept for the phone and one series held back, and a booking for Tolvan."""
        from vardkontakt.booking.availability import online_slots
        from vardkontakt.booking.models import BookingSettings, Channel, HeldBack, ScheduleTemplate, VisitType
        from vardkontakt.booking.schedule import slots_generate
        from vardkontakt.booking.services import BookingRefused, booking_create_online
        from vardkontakt.booking.staff_services import schedule_template_delete

        for unit in [u for u in units if u.kind == "primary_care"][:2]:
            BookingSettings.objects.update_or_create(
                unit=unit,
                defaults={
                    "terms_text": demo_data.BOOKING_TERMS,
                    "self_assessment_url": "https://www.1177.se/",
                },
            )
            members = [m.staff for m in unit.memberships.select_related("staff").order_by("staff__hsa_id")]
            head = next(m for m in unit.memberships.select_related("staff") if m.role == MembershipRole.UNIT_ADMIN)
            for spec in demo_data.VISIT_TYPES:
                visit, _ = VisitType.objects.update_or_create(unit=unit, name=spec["name"], defaults=spec["fields"])
                # A demo loaded before visit types named their professions gave blocks to whoever
                # came first (a nurse held doctor visits): those blocks go, with their free times.
                for misfit in ScheduleTemplate.objects.filter(visit_type=visit).select_related("practitioner"):
                    if not misfit.fits:
                        schedule_template_delete(template=misfit, by=head.staff)
                holder = next((member for member in members if visit.may_be_held_by(member)), None)
                if holder is None:
                    raise CommandError(f"No member of {unit.name} may hold {visit.name}: see demo_data.NAMED_STAFF.")
                for block in spec["blocks"]:
                    ScheduleTemplate.objects.get_or_create(
                        unit=unit,
                        practitioner=holder,
                        visit_type=visit,
                        weekday=block["weekday"],
                        start_time=block["start"],
                        defaults={
                            "end_time": block["end"],
                            "place": block["place"],
                            "channel": Channel.PHONE_ONLY if block.get("phone_only") else Channel.ONLINE_AND_PHONE,
                            "held_back": HeldBack.SERIES if block.get("series") else "",
                        },
                    )
            slots_generate(unit, today=today)
        lindangen = units[0]
        free = (
            online_slots(lindangen).filter(starts_at__gte=timezone.now() + dt.timedelta(days=3)).order_by("starts_at")
        )
        slot = free.first()
        if slot is not None and not patients[0].bookings.exists():
            # On a re-run the slot may have gone since: the demo is whole without this booking.
            with contextlib.suppress(BookingRefused):
                booking_create_online(
                    slot_id=slot.pk,
                    unit=lindangen,
                    subject=patients[0],
                    actor=patients[0],
                    idempotency_key="demo-tolvan-1",
                )

    def _listings(self, patients: list[Patient], units: list[CareUnit], today: Any) -> None:
        primary_care = [unit for unit in units if unit.kind == "primary_care"]
        for index, patient in enumerate(patients):
            Listing.objects.get_or_create(
                patient=patient, unit=primary_care[index % len(primary_care)], defaults={"since": today}
            )
        # Tolvan also has a specialist contact, so the home page shows more than one unit.
        Listing.objects.get_or_create(patient=patients[0], unit=units[6], defaults={"since": today})
