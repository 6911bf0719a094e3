"""The outbox: one notice per thing a person should be told, written in the same transaction as
the change that causes it, and one delivery per channel the person chose.

The platform shows notices at once; the worker delivers e-mail and SMS from the same rows, with
retries and back-off. A notice is unique per (recipient, kind, cause) and a delivery per
(notice, channel), so one event reaches one person once per channel. Messages that leave the
platform never carry medical content (see notifications/messages.py).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient, Staff


class NotificationKind(models.TextChoices):
    PROXY_INVITED = "proxy_invited", _("You have been asked to act for someone")
    PROXY_ACCEPTED = "proxy_accepted", _("Your proxy has accepted")
    PROXY_DECLINED = "proxy_declined", _("Your proxy request was declined")
    PROXY_REVOKED = "proxy_revoked", _("A proxy arrangement has ended")
    RECORD_SEALED = "record_sealed", _("Your record is sealed")
    RECORD_REOPENED = "record_reopened", _("Your record has been reopened")
    REPLY_WAITING = "reply_waiting", _("You have a new message")
    CASE_ASSIGNED = "case_assigned", _("A case has been assigned to you")
    DEADLINE_DIGEST = "deadline_digest", _("Cases are near or past their deadline")
    NEW_RESULT = "new_result", _("A new test result is in your record")
    REFERRAL_STATUS = "referral_status", _("A referral in your record has a new status")
    BOOKING_CONFIRMED = "booking_confirmed", _("Your appointment is booked")
    BOOKING_CHANGED = "booking_changed", _("Your appointment has been moved")
    BOOKING_CANCELLED = "booking_cancelled", _("Your appointment has been cancelled")
    BOOKING_REMINDER = "booking_reminder", _("Reminder of your appointment")
    EARLIER_TIME_OFFERED = "earlier_time_offered", _("An earlier time is offered to you")
    ONBOARDING_INTEREST = "onboarding_interest", _("A care unit has registered its interest")
    NEW_LETTER = "new_letter", _("You have a new letter")
    NEW_INVOICE = "new_invoice", _("You have an invoice")
    INVOICE_REMINDER = "invoice_reminder", _("A reminder of an unpaid invoice")

    INTERPRETER_INVITED = "interpreter_invited", _("You have been asked to interpret at a video meeting")


class About(models.TextChoices):
    """What a notice is about, so the person's own page can link to it (never sent out)."""

    NOTHING = "", _("nothing in particular")
    BOOKING = "booking", _("a booking")
    CASE = "case", _("a case")
    PROXY = "proxy", _("a proxy")
    SEAL = "seal", _("the seal of the record")
    RESULTS = "results", _("the results in the record")
    LETTER = "letter", _("a letter")
    INVOICE = "invoice", _("an invoice")
    REFERRALS = "referrals", _("the referrals in the record")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Found by notification_unread and the two "once" constraints (whose indexes begin with them).
    recipient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    recipient_staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # What caused it, so the same event never notifies the same person twice.
    cause = models.CharField(max_length=100)
    # Non-medical facts a message may carry (a reminder's time); never a unit, name or diagnosis.
    context = models.JSONField(default=dict, blank=True)
    # What it is about (the row's id), for the link on the person's own start page only: the page
    # behind the login may say more than an SMS, once the policy lets the reader see the row.
    about = models.CharField(max_length=16, choices=About.choices, blank=True)
    about_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "cause"], condition=Q(recipient__isnull=False), name="notification_once"
            ),
            models.UniqueConstraint(
                fields=["recipient_staff", "kind", "cause"],
                condition=Q(recipient_staff__isnull=False),
                name="staff_notification_once",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False, recipient_staff__isnull=True)
                | Q(recipient__isnull=True, recipient_staff__isnull=False),
                name="notification_one_recipient",
            ),
            models.CheckConstraint(condition=one_of("kind", NotificationKind.values), name="notification_kind_valid"),
            models.CheckConstraint(condition=one_of("about", About.values), name="notification_about_valid"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notification_unread")]


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("text message")
    PUSH = "push", _("push notification")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("gave up")
    WITHDRAWN = "withdrawn", _("not sent: no longer relevant")


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The address as it was when the event happened: a later change of number does not resend.
    # For push, the PushSubscription's id: one delivery per device, each retried on its own.
    address = models.CharField(max_length=254)
    language = models.CharField(max_length=8, default="sv")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While SENDING, the claim lapses at this time (a worker that died mid-send is retried).
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], condition=~Q(channel="push"), name="delivery_once_per_channel"
            ),
            models.UniqueConstraint(
                fields=["notification", "address"], condition=Q(channel="push"), name="push_delivery_once_per_device"
            ),
            models.CheckConstraint(condition=one_of("status", DeliveryStatus.values), name="delivery_status_valid"),
            models.CheckConstraint(condition=one_of("channel", Channel.values), name="delivery_channel_valid"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class PushSubscription(models.Model):
    """One browser or phone that receives Web Push notices for a resident (what the browser's
    PushManager gives: the push service's endpoint and the keys the payload is encrypted to).

    The endpoint names the device at its push service, so it is stored once: a browser that
    subscribes again updates its row, and a device shared by two residents belongs to the one who
    subscribed last. The push service's 404/410 answer removes the row (delivery.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000)
    # The browser's P-256 ECDH public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=32)
    # Which kind of device, from its User-Agent, so the resident can tell their devices apart.
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["endpoint"], name="push_subscription_once_per_endpoint")]

    def __str__(self) -> str:
        return self.label or str(self.id)
