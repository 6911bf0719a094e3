"""What each audit action is called where people read the log.

Two kinds of reader meet these words: a resident in "Vem har läst min journal" and a unit
administrator in the log review. Both read a row as "who · what", so each label is a short verb
phrase that follows the person's name ("Anna Berg, sjuksköterska · öppnade ett ärende"), in plain
words and without the codes the service uses inside.

Every action the code writes has a label here: tests/access/test_action_labels.py reads the source
for the actions written, and ``audit()`` warns (an error in the tests) about an action without one.
A row whose action is unknown (an entry older than its label) still reads as words, never as code.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

ACTION_LABELS: dict[str, Promise] = {
    # The record and the person's own account.
    "record.read": pgettext_lazy("audit log", "read the record"),
    "record.seal": pgettext_lazy("audit log", "sealed the record"),
    "record.reopen": pgettext_lazy("audit log", "reopened the sealed record"),
    "seal.lookup": pgettext_lazy("audit log", "looked up a sealed record"),
    "home.read": pgettext_lazy("audit log", "opened the start page"),
    "notice.read": pgettext_lazy("audit log", "saw a notice about the person on the start page"),
    "access_log.read": pgettext_lazy("audit log", "read who has read the record"),
    "acting.switch": pgettext_lazy("audit log", "began acting for the person"),
    # Proxies and guardians.
    "proxy.invite": pgettext_lazy("audit log", "asked someone to be a proxy"),
    "proxy.accept": pgettext_lazy("audit log", "accepted being a proxy"),
    "proxy.decline": pgettext_lazy("audit log", "declined being a proxy"),
    "proxy.revoke": pgettext_lazy("audit log", "ended a proxy arrangement"),
    "guardian.block": pgettext_lazy("audit log", "blocked a guardian"),
    "guardian.unblock": pgettext_lazy("audit log", "lifted a guardian's block"),
    "guardianship.read": pgettext_lazy("audit log", "looked up guardians"),
    "guardianship.import": pgettext_lazy("audit log", "imported guardianships"),
    # Cases.
    "case.create": pgettext_lazy("audit log", "sent a case"),
    "case.read": pgettext_lazy("audit log", "opened a case"),
    "case.call_number.read": pgettext_lazy("audit log", "saw the phone number to call in a case"),
    "attachment.read": pgettext_lazy("audit log", "opened a file sent with a case"),
    "case.assign": pgettext_lazy("audit log", "assigned a case to a member of staff"),
    "case.reply": pgettext_lazy("audit log", "answered a case"),
    "case.ask": pgettext_lazy("audit log", "asked the patient for more in a case"),
    "case.note": pgettext_lazy("audit log", "wrote an internal note in a case"),
    "case.will_call": pgettext_lazy("audit log", "said the unit will call about a case"),
    "case.close": pgettext_lazy("audit log", "closed a case"),
    "case.reopen": pgettext_lazy("audit log", "opened a closed case again"),
    "case.patient_message": pgettext_lazy("audit log", "answered the unit in a case"),
    "case.withdraw": pgettext_lazy("audit log", "withdrew a case"),
    "inbox.read": pgettext_lazy("audit log", "opened the unit's inbox"),
    "service.activate": pgettext_lazy("audit log", "began offering a service"),
    "service.update": pgettext_lazy("audit log", "changed a service"),
    "region_form.save": pgettext_lazy("audit log", "saved a default form of the region"),
    # The appointment book.
    "booking.read": pgettext_lazy("audit log", "saw the booking in the unit's appointment book"),
    "booking.staff_book": pgettext_lazy("audit log", "booked an appointment for the patient by phone"),
    "booking.staff_cancel": pgettext_lazy("audit log", "cancelled the patient's appointment"),
    "booking_setup.change": pgettext_lazy("audit log", "changed the set-up of the appointment book"),
    "booking.list.read": pgettext_lazy("audit log", "saw the booked appointments"),
    "booking.detail.read": pgettext_lazy("audit log", "saw a booked appointment"),
    "booking.ics.read": pgettext_lazy("audit log", "saved a booked appointment to a calendar"),
    "booking.feed.read": pgettext_lazy("audit log", "the calendar link showed the booked appointments"),
    "booking.book": pgettext_lazy("audit log", "booked an appointment online"),
    "booking.cancel": pgettext_lazy("audit log", "cancelled an appointment online"),
    "booking.rebook": pgettext_lazy("audit log", "moved an appointment online"),
    "booking.feed.create": pgettext_lazy("audit log", "made a calendar link to the booked appointments"),
    "booking.feed.revoke": pgettext_lazy("audit log", "turned off a calendar link"),
    "letter.list.read": pgettext_lazy("audit log", "saw the list of letters"),
    "letter.open": pgettext_lazy("audit log", "opened a letter"),
    "letter.pdf": pgettext_lazy("audit log", "saved a letter as PDF"),
    # Video visits.
    "video.page.read": pgettext_lazy("audit log", "opened a video visit"),
    "video.day.read": pgettext_lazy("audit log", "saw the day's video visits"),
    "video.join": pgettext_lazy("audit log", "joined a video visit"),
    "video.admit": pgettext_lazy("audit log", "let someone into a video visit"),
    "video.end": pgettext_lazy("audit log", "ended a video visit"),
    "video.route": pgettext_lazy("audit log", "routed a video caller"),
    "video.queue.open": pgettext_lazy("audit log", "opened a drop-in video queue"),
    "video.queue.join": pgettext_lazy("audit log", "joined a drop-in video queue"),
    "video.queue.take": pgettext_lazy("audit log", "took a caller from a drop-in video queue"),
    "video.evaluate": pgettext_lazy("audit log", "answered the survey after a video visit"),
    "video.interpreter.invite": pgettext_lazy("audit log", "invited an interpreter to a video visit"),
    "video.interpreter.withdraw": pgettext_lazy("audit log", "withdrew an interpreter's invitation to a video visit"),
    "video.queue.read": pgettext_lazy("audit log", "saw a caller in a drop-in video queue"),
    "letter_template.change": pgettext_lazy("audit log", "changed the unit's letter texts"),
    "letter_settings.change": pgettext_lazy("audit log", "changed the region's letter rules"),
    "letters.source.change": pgettext_lazy(
        "audit log", "changed whether the platform sends a booking system's letters"
    ),
    "booking.patient_check": pgettext_lazy("audit log", "looked up the patient's name to book by phone"),
    "fees.highcost.read": pgettext_lazy("audit log", "saw the high-cost protection and frikort"),
    "fees.frikort.verify": pgettext_lazy("audit log", "checked a frikort code"),
    "fees.fee.charge": pgettext_lazy("audit log", "charged a patient fee"),
    "fees.fee.register": pgettext_lazy("audit log", "registered a fee paid elsewhere"),
    "fees.fee.withdraw": pgettext_lazy("audit log", "took back a patient fee charged in error"),
    "booking.checkin": pgettext_lazy("audit log", "checked in for an appointment"),
    "booking.missed.mark": pgettext_lazy("audit log", "marked an appointment as a missed visit"),
    "booking.missed.undo": pgettext_lazy("audit log", "undid a missed visit"),
    "kiosk.device.create": pgettext_lazy("audit log", "added a check-in kiosk"),
    "kiosk.device.register": pgettext_lazy("audit log", "registered a check-in kiosk on its device"),
    "kiosk.device.revoke": pgettext_lazy("audit log", "turned off a check-in kiosk"),
    "kiosk.identify": pgettext_lazy("audit log", "identified at the unit's check-in kiosk"),
    "kiosk.bookings.read": pgettext_lazy("audit log", "saw today's appointments at the check-in kiosk"),
    "fees.schedule.set": pgettext_lazy("audit log", "changed the region's fee schedule"),
    "fees.rules.update": pgettext_lazy("audit log", "changed the region's fee rules"),
    # Payments.
    "payments.list.read": pgettext_lazy("audit log", "saw the patient fees and their payments"),
    "payments.payment.read": pgettext_lazy("audit log", "saw a payment of a patient fee"),
    "payments.payment.start": pgettext_lazy("audit log", "began paying a patient fee"),
    "payments.payment.settle": pgettext_lazy("audit log", "recorded the payment provider's answer"),
    "payments.payment.cancel": pgettext_lazy("audit log", "stopped a payment under way"),
    "payments.refund.create": pgettext_lazy("audit log", "paid back a patient fee"),
    "payments.unit.read": pgettext_lazy("audit log", "saw the unit's payments"),
    "payments.invoice.issue": pgettext_lazy("audit log", "sent an invoice of a patient fee"),
    "payments.invoice.remind": pgettext_lazy("audit log", "sent a reminder of an invoice"),
    "payments.invoice.read": pgettext_lazy("audit log", "opened an invoice of a patient fee"),
    "payments.invoices.export": pgettext_lazy("audit log", "exported the region's invoices for accounting"),
    "payments.invoice.paid": pgettext_lazy("audit log", "marked an invoice paid from the bank's file"),
    "payments.rules.update": pgettext_lazy("audit log", "changed the region's invoicing"),
    "booking.earlier.ask": pgettext_lazy("audit log", "asked for an earlier time for an appointment"),
    "booking.earlier.withdraw": pgettext_lazy("audit log", "stopped waiting for an earlier time"),
    "booking.earlier.claim": pgettext_lazy("audit log", "moved an appointment to an offered earlier time"),
    "booking.external.read": pgettext_lazy("audit log", "saw an appointment another booking system published"),
    "booking.external.request": pgettext_lazy(
        "audit log", "asked the unit to cancel or move an appointment of another booking system"
    ),
    "booking.external.import": pgettext_lazy("audit log", "sent appointments from a booking system"),
    "booking.external.book": pgettext_lazy("audit log", "booked a time another booking system published"),
    "booking.external.cancel": pgettext_lazy("audit log", "cancelled an appointment booked in a published time"),
    "booking.waiting_list.read": pgettext_lazy("audit log", "saw the patient on the waiting list for an earlier time"),
    "case.list.read": pgettext_lazy("audit log", "saw the cases"),
    "case.inbox.read": pgettext_lazy("audit log", "saw the case in the unit's inbox"),
    # Care systems (the FHIR interface).
    "fhir.read": pgettext_lazy("audit log", "fetched the information into a care system"),
    "fhir.import": pgettext_lazy("audit log", "sent record information from a care system"),
    "fhir.remove": pgettext_lazy("audit log", "took an entry out of the record from a care system (entered in error)"),
    # The unit and its onboarding.
    "unit.contact": pgettext_lazy("audit log", "changed the unit's contact details"),
    "unit.opening_exception": pgettext_lazy("audit log", "entered other opening hours for a day"),
    "unit.member": pgettext_lazy("audit log", "added a member of staff or changed their role"),
    "unit.member_removed": pgettext_lazy("audit log", "removed a member of staff from the unit"),
    "onboarding.meeting": pgettext_lazy("audit log", "recorded the information meeting and the start date"),
    "onboarding.activate": pgettext_lazy("audit log", "activated the unit"),
    "onboarding.appoint": pgettext_lazy("audit log", "appointed a unit administrator"),
    "onboarding.training": pgettext_lazy("audit log", "recorded a completed training"),
    "onboarding.live": pgettext_lazy("audit log", "opened the unit to residents"),
    # Support and the log itself.
    "support.lookup": pgettext_lazy("audit log", "looked up the account for support"),
    "audit_log.review": pgettext_lazy("audit log", "reviewed the log"),
    # Unit administration.
    "unit.news": pgettext_lazy("audit log", "published news for the unit's staff"),
    "unit.news_removed": pgettext_lazy("audit log", "removed news for the unit's staff"),
    "unit.opening_exception_removed": pgettext_lazy("audit log", "removed other opening hours of the unit"),
    # Region administration.
    "region.create": pgettext_lazy("audit log", "created the region"),
    "region.rules_update": pgettext_lazy("audit log", "changed the region's rules"),
    "catalogue.upload": pgettext_lazy("audit log", "uploaded an extract of the HSA catalogue"),
    "catalogue.import": pgettext_lazy("audit log", "applied an extract of the HSA catalogue"),
    "catalogue.access_end": pgettext_lazy("audit log", "ended the access of a person no longer in the HSA catalogue"),
    "information_page.update": pgettext_lazy("audit log", "changed the text of a page about the e-services"),
    "region.archive_contact": pgettext_lazy("audit log", "set how to reach the region archive"),
    "administration.create": pgettext_lazy("audit log", "added an administration"),
    "coordinator.appoint": pgettext_lazy("audit log", "appointed a coordinator"),
    "coordinator.remove": pgettext_lazy("audit log", "removed a coordinator"),
    "unit.create": pgettext_lazy("audit log", "added a unit"),
    "unit.update": pgettext_lazy("audit log", "changed a unit's details"),
    "staff.add": pgettext_lazy("audit log", "added a member of staff"),
    "staff.access_end": pgettext_lazy("audit log", "ended a member of staff's access"),
    "membership.set": pgettext_lazy("audit log", "gave a member of staff a role at a unit"),
    "membership.remove": pgettext_lazy("audit log", "took a member of staff off a unit"),
    "region_role.grant": pgettext_lazy("audit log", "granted a region role"),
    "region_role.revoke": pgettext_lazy("audit log", "took away a region role"),
}

UNKNOWN_ACTION = pgettext_lazy("audit log", "did something the log has no words for yet")


class UnlabelledAuditAction(UserWarning):
    """An audit entry was written for an action that has no label above."""


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, UNKNOWN_ACTION))
