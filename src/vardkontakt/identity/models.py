"""People: the login principal (User) and the two kinds of person behind it, Patient and Staff.

Nobody has a password. A User is created at the first OpenID Connect login and points at exactly
one Patient or one Staff member; the same human logging in with e-ID and with SITHS has two
users, so a session is always either a resident's or a staff member's, never both.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.identity.numbers import (
    birth_date_of,
    format_personnummer,
    validate_hsa_id,
    validate_personnummer,
)


class UserKind(models.TextChoices):
    PATIENT = "patient", _("resident")
    STAFF = "staff", _("staff")


class UserManager(BaseUserManager["User"]):
    def get_or_create_for_patient(self, patient: Patient) -> User:
        if patient.user_id:
            return patient.user  # type: ignore[return-value]
        user = self.create(kind=UserKind.PATIENT, login_key=f"patient:{patient.personnummer}")
        patient.user = user
        patient.save(update_fields=["user"])
        return user

    def get_or_create_for_staff(self, staff: Staff) -> User:
        if staff.user_id:
            return staff.user  # type: ignore[return-value]
        user = self.create(kind=UserKind.STAFF, login_key=f"staff:{staff.hsa_id}")
        staff.user = user
        staff.save(update_fields=["user"])
        return user


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=UserKind.choices)
    login_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "login_key"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        constraints = [models.CheckConstraint(condition=one_of("kind", UserKind.values), name="user_kind_valid")]

    def save(self, *args: object, **kwargs: object) -> None:
        if self._state.adding and not self.password:
            self.set_unusable_password()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_patient(self) -> bool:
        return self.kind == UserKind.PATIENT

    @property
    def is_staff_member(self) -> bool:
        return self.kind == UserKind.STAFF

    def __str__(self) -> str:
        return self.login_key


# The languages letters are written in (each name in its own language, as a language choice is).
LETTER_LANGUAGES = [("sv", "Svenska"), ("en", "English")]


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient")
    personnummer = models.CharField(
        _("personal identity number"), max_length=12, unique=True, validators=[validate_personnummer]
    )
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    notify_by_sms = models.BooleanField(_("notify me by text message"), default=False)
    notify_by_email = models.BooleanField(_("notify me by e-mail"), default=False)
    # Digital kallelse: appointment letters in "Brev" instead of on paper (a letter left unopened
    # shortly before the visit still goes on paper; see letters/services.py).
    digital_letters = models.BooleanField(_("digital letters instead of paper"), default=False)
    # The language of the person's letters on paper and as PDF (the page in Brev follows the site's
    # language): a unit's letters exist in Swedish and English.
    letter_language = models.CharField(
        _("language of your letters"), max_length=2, choices=LETTER_LANGUAGES, default="sv"
    )
    # The registered address (folkbokföringsadress) from the population register: where paper
    # letters go. Empty until the register import has given it.
    street_address = models.CharField(_("street address"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    # Skyddad identitet (from the population register): no guardian proxy is ever offered.
    protected_identity = models.BooleanField(_("protected identity"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=one_of("letter_language", ["sv", "en"]), name="patient_letter_language_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(notify_by_sms=False) | ~models.Q(mobile=""),
                name="patient_sms_needs_mobile",
            ),
            models.CheckConstraint(
                condition=models.Q(notify_by_email=False) | ~models.Q(email=""),
                name="patient_email_needs_address",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def birth_date(self) -> dt.date:
        return birth_date_of(self.personnummer)

    @property
    def personnummer_display(self) -> str:
        return format_personnummer(self.personnummer)

    @property
    def has_address(self) -> bool:
        return bool(self.street_address and self.postal_code and self.city)


class Profession(models.TextChoices):
    DOCTOR = "doctor", _("doctor")
    NURSE = "nurse", _("nurse")
    DISTRICT_NURSE = "district_nurse", _("district nurse")
    MIDWIFE = "midwife", _("midwife")
    PHYSIOTHERAPIST = "physiotherapist", _("physiotherapist")
    OCCUPATIONAL_THERAPIST = "occupational_therapist", _("occupational therapist")
    PSYCHOLOGIST = "psychologist", _("psychologist")
    COUNSELLOR = "counsellor", _("counsellor")
    ASSISTANT_NURSE = "assistant_nurse", _("assistant nurse")
    RECEPTIONIST = "receptionist", _("receptionist")
    MEDICAL_SECRETARY = "medical_secretary", _("medical secretary")
    ADMINISTRATOR = "administrator", _("administrator")


class Staff(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff")
    hsa_id = models.CharField(_("HSA-id"), max_length=31, unique=True, validators=[validate_hsa_id])
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    profession = models.CharField(_("profession"), max_length=32, choices=Profession.choices)
    email = models.EmailField(_("work e-mail address"), blank=True)
    mobile = models.CharField(_("work mobile number"), max_length=20, blank=True)
    notify_assigned_by_email = models.BooleanField(_("e-mail me when a case is assigned to me"), default=False)
    notify_assigned_by_sms = models.BooleanField(_("text me when a case is assigned to me"), default=False)
    signature = models.TextField(_("signature"), blank=True, max_length=500)
    # Null until the staff member has saved their personal settings; the first login goes there.
    settings_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set by a region administrator when the person leaves: no login from then on, and an open
    # session ends at its next request.
    access_ended_at = models.DateTimeField(_("access ended"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name_plural = "staff"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(notify_assigned_by_sms=False) | ~models.Q(mobile=""),
                name="staff_sms_needs_mobile",
            ),
            models.CheckConstraint(
                condition=models.Q(notify_assigned_by_email=False) | ~models.Q(email=""),
                name="staff_email_needs_address",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def has_access(self) -> bool:
        return self.access_ended_at is None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
