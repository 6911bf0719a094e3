"""Region → Administration → CareUnit, the staff's places in them, and the patients listed there."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.identity.numbers import validate_hsa_id


class Region(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    # The residents' side and the staff entrance may carry different names (SPEC §2, Branding).
    service_name = models.CharField(_("service name for residents"), max_length=100, blank=True)
    staff_service_name = models.CharField(_("service name for staff"), max_length=100, blank=True)
    support_phone = models.CharField(_("support phone"), max_length=30, blank=True)
    support_email = models.EmailField(_("support e-mail"), blank=True)
    # The region archive reopens a sealed record (SPEC §7): a resident who seals is told how to reach it.
    archive_phone = models.CharField(_("region archive phone"), max_length=30, blank=True)
    archive_address = models.CharField(_("region archive address"), max_length=300, blank=True)
    archive_hours = models.CharField(_("region archive opening hours"), max_length=200, blank=True)
    # The seed's ages as defaults; many regions now use 16 for reading one's own record.
    guardian_access_until_age = models.PositiveSmallIntegerField(
        _("guardians act for children until this age"), default=13
    )
    own_record_from_age = models.PositiveSmallIntegerField(
        _("residents read their own record from this age"), default=18
    )
    # The seed's support hours (weekdays 06–22), the booking target (80 % of slots open online at
    # least 8 weeks ahead) and the onboarding target (live within a month), each the region's to change.
    support_opens = models.TimeField(_("support opens (weekdays)"), default=dt.time(6, 0))
    support_closes = models.TimeField(_("support closes (weekdays)"), default=dt.time(22, 0))
    booking_target_percent = models.PositiveSmallIntegerField(_("share of slots open online (%)"), default=80)
    booking_target_weeks = models.PositiveSmallIntegerField(_("open online at least this many weeks ahead"), default=8)
    onboarding_target_days = models.PositiveSmallIntegerField(_("days from interest to live"), default=30)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(guardian_access_until_age__lte=18) & models.Q(own_record_from_age__lte=18),
                name="region_ages_at_most_18",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_archive_contact(self) -> bool:
        return bool(self.archive_phone or self.archive_address)


def in_force(today: dt.date, prefix: str = "") -> Q:
    """A membership or region role that has started and not ended on ``today`` (its end date is
    its last day). ``prefix`` reaches it through a relation, e.g. ``"memberships__"``."""
    return (Q(**{f"{prefix}starts_on__isnull": True}) | Q(**{f"{prefix}starts_on__lte": today})) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": today})
    )


class RegionRoleKind(models.TextChoices):
    REGION_ADMIN = "region_admin", _("region administrator")
    ARCHIVIST = "archivist", _("archivist")
    SUPPORT = "support", _("support")


class RegionRole(models.Model):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="roles")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="region_roles")
    role = models.CharField(max_length=16, choices=RegionRoleKind.choices)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "staff", "role"], name="region_role_once"),
            models.CheckConstraint(condition=one_of("role", RegionRoleKind.values), name="region_role_valid"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="region_role_ends_after_start",
            ),
        ]


class Administration(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="administrations")
    name = models.CharField(_("name"), max_length=100)
    coordinators = models.ManyToManyField(Staff, blank=True, related_name="coordinated_administrations")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="administration_name_unique")]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    PRIMARY_CARE = "primary_care", _("primary care centre")
    SPECIALIST_CLINIC = "specialist_clinic", _("specialist clinic")
    CHILD_PSYCHIATRY = "child_psychiatry", _("child and adolescent psychiatry")
    ADULT_PSYCHIATRY = "adult_psychiatry", _("adult psychiatry")
    FORENSIC_PSYCHIATRY = "forensic_psychiatry", _("forensic psychiatry")
    MATERNITY_CARE = "maternity_care", _("maternity care")
    DELIVERY_CARE = "delivery_care", _("delivery care")
    YOUTH_CLINIC = "youth_clinic", _("youth clinic")
    CHILD_HEALTH = "child_health", _("child health centre")
    PHYSIOTHERAPY = "physiotherapy", _("physiotherapy")
    HABILITATION = "habilitation", _("habilitation")
    DENTAL = "dental", _("dental care")


# The contact details a unit administrator keeps up to date, and those a unit cannot go live
# without (SPEC §2; the website is optional).
CONTACT_FIELDS = ("street_address", "postal_code", "city", "phone", "website", "opening_hours")
CONTACT_FIELDS_REQUIRED = ("street_address", "postal_code", "city", "phone", "opening_hours")


class CareUnit(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="units")
    hsa_id = models.CharField(_("HSA-id"), max_length=31, unique=True, validators=[validate_hsa_id])
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind of unit"), max_length=32, choices=UnitKind.choices)
    street_address = models.CharField(_("visiting address"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    opening_hours = models.TextField(_("opening hours"), blank=True)
    website = models.URLField(_("website"), blank=True)
    # The seed's target: answer within two working days (SPEC §5); a unit may set its own.
    answer_target_working_days = models.PositiveSmallIntegerField(_("answer within (working days)"), default=2)
    # A unit judged to need a manual harm assessment (menprövning) never publishes its notes.
    needs_harm_assessment = models.BooleanField(_("needs a manual harm assessment before release"), default=False)
    # Residents meet a unit only once it is live; a unit being onboarded is prepared out of sight.
    live = models.BooleanField(_("live for residents"), default=True)
    listed_patients = models.ManyToManyField(Patient, through="Listing", related_name="listed_units")
    staff = models.ManyToManyField(Staff, through="Membership", related_name="units")

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=one_of("kind", UnitKind.values), name="unit_kind_valid")]

    def __str__(self) -> str:
        return self.name

    @property
    def region(self) -> Region:
        return self.administration.region

    @property
    def has_contact_information(self) -> bool:
        """A unit without current contact information cannot go live (SPEC §2)."""
        return all(str(getattr(self, name) or "").strip() for name in CONTACT_FIELDS_REQUIRED)


class Listing(models.Model):
    """A patient listed at (or in ongoing care with) a unit."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="listings")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="listings")
    since = models.DateField(_("listed since"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "unit"], name="listing_once")]


class MembershipRole(models.TextChoices):
    STAFF = "staff", _("staff")
    UNIT_ADMIN = "unit_admin", _("unit administrator")


class Membership(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices, default=MembershipRole.STAFF)
    # A place may be given ahead of a start date and end on a known last day (HSA extracts carry both).
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "unit"], name="membership_once"),
            models.CheckConstraint(condition=one_of("role", MembershipRole.values), name="membership_role_valid"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="membership_ends_after_start",
            ),
        ]


class Onboarding(models.Model):
    """A unit's way onto the platform (SPEC §2): interest → information meeting and start date →
    activated by the administration's coordinator → unit administrators appointed and trained →
    live once its contact details are complete and a service is active. Every step keeps its date.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="onboardings")
    unit_name = models.CharField(_("name of the unit"), max_length=120)
    hsa_id = models.CharField(_("HSA-id of the unit"), max_length=31, validators=[validate_hsa_id])
    kind = models.CharField(_("kind of unit"), max_length=32, choices=UnitKind.choices)
    contact_name = models.CharField(_("contact person"), max_length=120)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    message = models.TextField(_("message"), blank=True)
    unit = models.OneToOneField(CareUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="onboarding")
    interest_on = models.DateField(_("interest registered"))
    meeting_on = models.DateField(_("information meeting"), null=True, blank=True)
    agreed_start_on = models.DateField(_("agreed start"), null=True, blank=True)
    activated_on = models.DateField(_("activated"), null=True, blank=True)
    live_on = models.DateField(_("live"), null=True, blank=True)

    class Meta:
        ordering = ["interest_on", "unit_name"]
        constraints = [
            # One open application per unit: a second registration of interest is the same unit.
            models.UniqueConstraint(
                fields=["hsa_id"],
                name="onboarding_once_per_unit",
                violation_error_message=_("Interest for this unit is already registered."),
            ),
        ]

    def __str__(self) -> str:
        return self.unit_name


class AdministratorTraining(models.Model):
    """A unit administrator appointed during onboarding, and when they completed the training."""

    onboarding = models.ForeignKey(Onboarding, on_delete=models.CASCADE, related_name="administrators")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="administrator_trainings")
    appointed_on = models.DateField(_("appointed"))
    trained_on = models.DateField(_("training completed"), null=True, blank=True)

    class Meta:
        ordering = ["appointed_on"]
        constraints = [
            models.UniqueConstraint(fields=["onboarding", "staff"], name="administrator_once_per_onboarding")
        ]


class OpeningException(models.Model):
    """A day the unit keeps other hours than usual (a holiday, a training day), told to residents."""

    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="opening_exceptions")
    day = models.DateField(_("date"))
    hours = models.CharField(_("opening hours that day"), max_length=120)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="opening_exception_once_per_day")]


class UnitNews(models.Model):
    """News for the unit's colleagues, shown on their start page."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="news")
    title = models.CharField(_("heading"), max_length=120)
    body = models.TextField(_("text"))
    author = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]
