"""The audit trail of the authorization matrix: what each request leaves in the log.

Every URL in the matrix (tests/access/test_matrix.py) is declared here as showing or changing
patient data, as changing how a unit works (its administration), or as neither, with what it
shows instead; a URL the matrix gains fails ``test_every_url_is_declared`` until it is placed.

For the first two kinds, every row of the matrix that some persona passes (200 or 302) has its
expected trail here: the entries one request adds to the log, as (actor, on whose behalf,
patient, action, unit). The request is sent again as each persona who passes (the session's
acting-for choice included), inside a transaction that is rolled back, and the entries it added
must be exactly those: a read that logs nothing, a change logged twice or an entry naming the
wrong person fails. A URL of patient data must leave an entry in at least one of its rows, unless
the matrix only reaches it with an empty form or a refusal; then the test that proves its entries
is named (``ELSEWHERE``). The rows of the third kind are sent once and must name no patient.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from django.db import transaction
from django.db.models import Max

# The matrix's fixtures (one demo region, the cases and the appointments) and its rows.
from tests.access.test_matrix import (  # noqa: F401  (fixtures are found by name)
    ALL,
    FRIDA,
    PATIENT_PERSONAS,
    ROWS,
    Row,
    appointments,
    cases,
    prepare,
    unreachable_provider,
    who,
)
from tests.conftest import Personas
from vardkontakt.access.models import AuditEntry
from vardkontakt.organisation.models import CareUnit

# The matrix's world, for the tests that send requests.
in_the_matrix_world = pytest.mark.usefixtures("unreachable_provider", "cases", "appointments")


class Entry(NamedTuple):
    """One log entry, with people and units by name (the matrix's personas; Liam, Gunnel, Elsa;
    units X and Y)."""

    actor: str
    on_behalf_of: str
    patient: str
    action: str
    unit: str = ""


Trail = Callable[[str], list[Entry]]  # the persona who sends the request → the entries it adds


def nothing(persona: str) -> list[Entry]:
    return []


def acted_for(persona: str) -> str:
    """Whom each persona acts for in the matrix's "the one they act for" rows: the guardian and the
    proxy; everybody else's choice is judged again and falls back to themself."""
    return {"guardian_9": "liam", "adult_proxy": "gunnel"}.get(persona, persona)


def resident(action: str, *, of: str | Callable[[str], str] = "", unit: str = "") -> Trail:
    """The persona reads or changes the data of ``of`` (themself when not given), logged as acting
    for them (blank when it is themself)."""

    def trail(persona: str) -> list[Entry]:
        subject = of(persona) if callable(of) else (of or persona)
        return [Entry(persona, "" if subject == persona else subject, subject, action, unit)]

    return trail


def staff(action: str, *patients: str, unit: str = "X") -> Trail:
    """The persona, a staff member, reads or changes these patients' data (or the unit's)."""
    return lambda persona: [Entry(persona, "", patient, action, unit) for patient in patients or ("",)]


def then(*trails: Trail) -> Trail:
    return lambda persona: [entry for trail in trails for entry in trail(persona)]


IN_THE_BOOK = ("gunnel", "liam", "patient_a")  # the fixture's bookings, next week at unit X
IN_THE_INBOX = ("patient_a", "liam", "gunnel", "sealed_patient")  # the fixture's cases at unit X

# --- what each URL is -------------------------------------------------------------------------------

PATIENT_DATA = {
    "home:patient_home",
    "fees:high_cost",
    "fees:verify",
    "fees:register",
    "payments:list",
    "payments:pay_fee",
    "payments:status",
    "payments:cancel",
    "payments:invoice_pdf",
    "payments:receipt",
    "payments_staff:unit_payments",
    "payments_staff:refund",
    "payments_staff:invoice_export",
    "payments_staff:bank_import",
    "access:access_log",
    "access:acting_switch",
    "access:proxy_invite",
    "access:proxy_revoke",
    "access:proxy_respond",
    "access:seal",
    "cases:mine",
    "cases:write",
    "cases:detail",
    "cases:answer",
    "cases:attachment",
    "cases:withdraw",
    "records:overview",
    "records:notes",
    "records:section",
    "records:result_chart",
    "records:export",
    "records:vaccination_certificate",
    "fhir:base",
    "fhir:type",
    "fhir:instance",
    "fhir:search",
    "booking:mine",
    "letters:inbox",
    "letters:detail",
    "letters:pdf",
    "video:room",
    "video:evaluation",
    "video_staff:day",
    "video_staff:room",
    "video:drop_in",
    "video:drop_in_room",
    "video_staff:drop_in_room",
    "video_staff:interpreters",
    "video_staff:interpreter_withdraw",
    "video:interpreter_room",
    "booking:book",
    "booking:detail",
    "booking:check_in",
    "booking:cancel",
    "booking:rebook",
    "booking:ics",
    "booking:calendar_feed",
    "booking:calendar_settings",
    "booking:calendar_new",
    "booking:earlier_ask",
    "booking:earlier_withdraw",
    "booking:offer_claim",
    "booking:external_detail",
    "booking:external_request",
    "booking:external_book",
    "booking:external_cancel",
    "fhir:appointment_history",
    "fhir:appointment_book",
    "fhir:appointment_cancel",
    "booking_staff:book",
    "booking_staff:waiting_list",
    "booking_staff:slot",
    "booking_staff:overbook",
    "booking_staff:cancel",
    "booking_staff:missed",
    "booking_staff:missed_undo",
    "kiosk:start",
    "kiosk:bookings",
    "kiosk:done",
    "kiosk:bankid_poll",
    "operations_staff:support_lookup",
    "access_staff:unit_log",
    "access_staff:seals",
    "access_staff:seal_reopen",
    "access_staff:guardians",
    "access_staff:guardian_block",
    "cases_staff:inbox",
    "cases_staff:case",
    "cases_staff:attachment",
    "cases_staff:case_action",
}

ADMINISTRATION = {  # changes how a unit works (the region's default forms: how its units' forms start)
    "kiosk:register",
    "kiosk_staff:devices",
    "kiosk_staff:revoke",
    "payments_staff:region_payments",
    "booking_staff:setup",
    "letters_staff:texts",
    "video_staff:queues",
    "booking_staff:visit_type_new",
    "booking_staff:visit_type_edit",
    "booking_staff:template_new",
    "booking_staff:template_delete",
    "booking_staff:exception_new",
    "booking_staff:exception_delete",
    "booking_staff:roll",
    "booking_staff:day_off",
    "booking_staff:release",
    "onboarding:onboarding",
    "onboarding:unit_admin",
    "cases_staff:service_activate",
    "cases_staff:service_edit",
    "cases_staff:region_form_edit",
    "regions:administrations",
    "regions:unit_create",
    "regions:unit_edit",
    "regions:staff_add",
    "regions:staff",
    "regions:rules",
    "regions:fees",
    "letters_staff:region_rules",
    "regions:catalogue",
    "regions:catalogue_import",
    "regions:information",
}

NO_PATIENT_DATA = {
    "home:start": "the public start page",
    "home:home": "a redirect to the person's home",
    "home:healthz": "the service's health",
    "home:manifest": "the app's manifest",
    "home:service_worker": "the app's service worker",
    "home:offline": "the app's offline page",
    "home:staff_home": "the staff member's units, news and tools",
    "identity:login": "the login page",
    "identity:login_start": "the way to the e-ID",
    "identity:oidc_callback": "the login's return (logins are kept in operations.LoginRecord)",
    "identity:logout": "logging out",
    "identity:patient_settings": "one's own contact details",
    "notifications:push": "one's own devices with push notifications",
    "notifications:push_subscribe": "turns push notifications on for one's own device",
    "notifications:push_remove": "turns push notifications off for one's own device",
    "identity:staff_settings": "one's own settings",
    "set_language": "the language",
    "demo_idp:root": "the demo identity provider",
    "demo_idp:discovery": "the demo identity provider",
    "demo_idp:jwks": "the demo identity provider",
    "demo_idp:authorize": "the demo identity provider",
    "demo_idp:token": "the demo identity provider",
    "access:proxies": "one's own proxies: whom one has appointed and whom one acts for",
    "cases:choose_unit": "the units one may write to (the subject's own first)",
    "cases:choose_service": "a unit's services",
    "records:preferences": "one's own choices for the record page (unsigned notes, the last 14 days); no record data",
    "fhir:metadata": "the API's CapabilityStatement",
    "fhir:token": "a token for a source system",
    "booking:choose_unit": "the units that book online (the subject's own first)",
    "booking:visit_types": "a unit's visit types",
    "booking:slots": "a unit's free times",
    "booking:external_slots": "the times another booking system published at a unit (nobody's booking)",
    "booking_staff:coverage": "how much of the unit's time is open online: figures",
    "kiosk:bankid_start": "the start of an e-ID login for a kiosk (the kiosk logs who it identified)",
    "booking_staff:arrivals": "the day's arrival times by booking id, naming nobody (the book logged its read)",
    "onboarding:interest": "a unit's registration of interest",
    "onboarding:onboarding_list": "the coordinator's onboardings",
    "operations:support": "the public support page",
    "operations:accessibility": "the public accessibility statement",
    "operations:privacy": "the public page on personal data and cookies",
    "operations:about": "the public page about the e-services",
    "payments:swish_callback": "a payment provider's callback (authenticated; what it settles is logged by the system: tests/payments)",
    "payments:card_webhook": "a payment provider's callback (authenticated; what it settles is logged by the system: tests/payments)",
    "home:notice_open": "marks one's own notice read and leads to what it is about (that page logs its read)",
    "home:notice_dismiss": "marks one's own notice read",
    "home:notices_dismiss_all": "marks one's own notices read",
    "regions:overview": "links to the region's administration pages",
    "regions:units": "the region's units",
    "regions:staff_list": "the region's staff: names, HSA-ids and professions",
    "operations_staff:messages": "the region's operational messages",
    "operations_staff:message_create": "the region's operational messages (kept with who made them)",
    "operations_staff:message_edit": "the region's operational messages",
    "operations_staff:message_end": "the region's operational messages",
    "usage_statistics:unit": "figures",
    "usage_statistics:unit_csv": "figures",
    "usage_statistics:regional": "figures",
    "usage_statistics:regional_csv": "figures",
    "usage_statistics:public": "figures",
    "cases_staff:services": "the unit's services",
    "cases_staff:region_forms": "the region's default forms",
    "video:evaluation_thanks": "thanks for one's own answers",
    "video:caller": "one's own place in a drop-in queue (the join is logged)",
    "video_staff:queue": "a queue's page: the callers come by its socket",
    "video:interpreting": "one's own invitations to interpret today: a unit and a time, no patient",
}

# URLs the matrix reaches only with an empty form or a refusal, and the test proving their entries.
ELSEWHERE = {
    "payments_staff:bank_import": "tests/payments/test_bank.py::test_a_deposit_with_the_ocr_marks_the_invoice_paid_once",
    "regions:unit_create": "tests/regions/test_region_pages.py::test_a_new_unit_is_added_out_of_sight_and_audited",
    "regions:unit_edit": "tests/regions/test_region_pages.py::test_editing_a_unit_saves_and_audits_only_a_real_change",
    "regions:staff_add": "tests/regions/test_region_staff.py::test_the_region_administrator_adds_a_nurse_to_a_unit",
    "regions:rules": "tests/regions/test_region_rules.py::test_the_region_administrator_changes_the_ages_and_it_is_audited",
    "letters_staff:region_rules": "tests/letters/test_letter_texts.py::test_the_region_administrator_sets_the_letter_rules",
    "regions:catalogue": "tests/regions/test_hsa_import.py::test_a_preview_shows_what_would_change_and_applying_does_it_once",
    "regions:catalogue_import": "tests/regions/test_hsa_import.py::test_a_preview_shows_what_would_change_and_applying_does_it_once",
    "access:proxy_invite": "tests/access/test_proxy_pages.py::test_a_resident_invites_an_adult_who_accepts",
    "access:proxy_respond": "tests/access/test_proxy_pages.py::test_a_resident_invites_an_adult_who_accepts",
    "access:seal": "tests/access/test_seal_and_stepup.py::test_a_patient_seals_their_record_and_nobody_reads_it_after",
    "cases:answer": "tests/cases/test_pages.py::test_the_patients_answer_is_logged_with_the_case_it_answers",
    "records:result_chart": "tests/records/test_chart_and_export.py::test_the_chart_read_is_in_the_access_log",
    "fhir:base": "tests/fhir/test_api.py::test_a_transaction_bundle_answers_entry_by_entry_and_a_repeat_changes_nothing",
    "fhir:type": "tests/fhir/test_api.py::test_the_read_of_a_note_is_valid_fhir_and_carries_the_text",
    "fhir:instance": "tests/fhir/test_api.py::test_the_read_of_a_note_is_valid_fhir_and_carries_the_text",
    "fhir:search": "tests/fhir/test_scope_and_audit.py::test_searches_go_by_post_and_never_carry_a_personnummer_in_the_url",
    "kiosk:start": "tests/checkin/test_kiosk.py::test_personnummer_and_time_find_the_appointment_and_check_in",
    "kiosk:bookings": "tests/checkin/test_kiosk.py::test_personnummer_and_time_find_the_appointment_and_check_in",
    "kiosk:done": "tests/checkin/test_kiosk.py::test_the_visit_expires_on_the_server_and_done_ends_it",
    "kiosk:bankid_poll": "tests/checkin/test_kiosk.py::test_a_bankid_login_completed_on_the_phone_is_taken_by_its_kiosk_once",
    "kiosk:register": "tests/checkin/test_kiosk.py::test_the_registration_link_works_once",
    "fhir:appointment_history": "tests/fhir/test_appointment_feed.py::test_the_feed_tells_what_a_resident_booked_moved_and_cancelled_in_order",
    "fhir:appointment_book": "tests/fhir/test_slots.py::test_book_takes_the_slot_for_the_resident_and_the_slot_reads_busy",
    "fhir:appointment_cancel": "tests/fhir/test_slots.py::test_cancel_frees_the_slot_with_the_reason_and_twice_is_once",
    "booking_staff:overbook": "tests/booking/test_staff_pages.py::test_overbooking_only_on_purpose_with_a_reason_and_it_is_marked",
    "access_staff:seals": "tests/access/test_seal_and_stepup.py::test_the_archivist_finds_a_seal_by_personnummer",
    "access_staff:seal_reopen": "tests/access/test_seal_and_stepup.py::test_only_an_archivist_reopens_and_must_give_a_reason",
    "access_staff:guardians": "tests/access/test_guardians_and_log_review.py::test_a_unit_head_blocks_and_unblocks_a_guardian",
    "onboarding:onboarding": "tests/onboarding/test_onboarding.py::test_the_coordinator_takes_the_unit_live_step_by_step",
    "cases_staff:service_edit": "tests/cases/test_service_admin.py::test_the_unit_admin_adapts_a_service",
    "cases_staff:region_form_edit": "tests/cases/test_service_admin.py::test_the_region_admin_sets_a_default_that_new_units_adopt",
}

# --- the trails ---------------------------------------------------------------------------------------

TRAIL: dict[tuple[str, str], Trail] = {
    # The residents' start page is logged when it is someone else's (home.read); one's own is not.
    # A guardian's or proxy's own start page names the booking confirmed for the one they act for
    # ("Nytt för dig"): that is a read of that person's data.
    ("home:patient_home", "own"): lambda persona: (
        resident("notice.read", of=acted_for, unit="X")(persona) if acted_for(persona) != persona else []
    ),
    ("home:patient_home", "the one they act for"): lambda persona: (
        resident("home.read", of=acted_for)(persona) if acted_for(persona) != persona else []
    ),
    ("access:access_log", "own"): resident("access_log.read"),
    ("access:acting_switch", "own"): resident("acting.switch"),
    ("access:acting_switch", "one they act for"): resident("acting.switch", of=acted_for),
    ("access:acting_switch", "a sealed one"): resident("acting.switch"),
    ("access:proxy_invite", "own"): nothing,  # the form
    ("access:proxy_revoke", "Gunnel's proxy"): lambda persona: [Entry(persona, "", "gunnel", "proxy.revoke")],
    ("access:proxy_respond", "Gunnel's proxy"): nothing,  # already accepted: answering again changes nothing
    ("access:seal", "own"): nothing,  # the form
    # Cases: the list, the case (and its file), sending, withdrawing (the case is read on its way).
    ("cases:mine", "own"): resident("case.list.read"),
    ("cases:mine", "the one they act for"): resident("case.list.read", of=acted_for),
    ("cases:write", "unit X's advice"): nothing,  # the empty form
    ("cases:write", "unit X's advice, sent"): resident("case.create", unit="X"),
    ("cases:detail", "Tolvan's case"): resident("case.read", unit="X"),
    ("cases:detail", "Liam's case (sent by his guardian)"): resident("case.read", of="liam", unit="X"),
    ("cases:detail", "Gunnel's case (her proxy acts)"): resident("case.read", of="gunnel", unit="X"),
    ("cases:detail", "Sofia's case (sealed record)"): resident("case.read", unit="X"),
    ("cases:attachment", "the file of Tolvan's case"): then(
        resident("case.read", unit="X"), resident("attachment.read", unit="X")
    ),
    ("cases:withdraw", "Tolvan's case"): resident("case.withdraw", unit="X"),
    # The record: each page is one read of the section it shows.
    # Fees: the high-cost page reads the subject's period; a genuine frikort code read names its holder;
    # a fee registered from a receipt is logged with the registering unit.
    ("fees:high_cost", "own"): resident("fees.highcost.read"),
    ("fees:high_cost", "the one they act for"): resident("fees.highcost.read", of=acted_for),
    ("fees:verify", "the form"): nothing,
    ("fees:verify", "a genuine code of a resident from elsewhere"): lambda persona: [
        Entry(persona, "", FRIDA, "fees.frikort.verify")
    ],
    ("fees:verify", "a forged code"): nothing,
    # Payments: the list and the fee read the subject's fees; a payment and an invoice are read at unit X.
    ("payments:list", "own"): resident("payments.list.read"),
    ("payments:list", "the one they act for"): resident("payments.list.read", of=acted_for),
    ("payments:pay_fee", "Tolvan's fee"): resident("payments.list.read"),
    ("payments:pay_fee", "Liam's fee (his guardian acts)"): resident("payments.list.read", of="liam"),
    ("payments:status", "Tolvan's payment"): resident("payments.payment.read", unit="X"),
    ("payments:cancel", "Tolvan's payment (paid: nothing to stop)"): resident("payments.payment.read", unit="X"),
    ("payments:receipt", "Tolvan's paid payment"): resident("payments.payment.read", unit="X"),
    ("payments:invoice_pdf", "Tolvan's invoice"): resident("payments.invoice.read", unit="X"),
    ("payments_staff:unit_payments", "unit X"): staff("payments.unit.read", "patient_a"),
    ("payments_staff:refund", "Tolvan's payment at unit X"): staff("payments.payment.read", "patient_a"),
    ("payments_staff:refund", "Tolvan's payment at unit X, 50 kronor back with a reason"): then(
        staff("payments.payment.read", "patient_a"), staff("payments.refund.create", "patient_a")
    ),
    ("payments_staff:region_payments", "the region"): nothing,
    ("payments_staff:region_payments", "the region, a bankgiro number set"): staff("payments.rules.update", unit=""),
    ("payments_staff:invoice_export", "the region, the day of Tolvan's invoice"): staff(
        "payments.invoices.export", "patient_a", unit=""
    ),
    ("fees:register", "the form"): nothing,
    ("fees:register", "a fee Tolvan paid in another region"): lambda persona: [
        Entry(persona, "", "patient_a", "fees.fee.register", "Y" if persona in ("staff_y", "coordinator") else "X")
    ],
    ("fees:register", "no reason given (for a resident from elsewhere: the form shows the number typed)"): nothing,
    ("records:overview", "own"): resident("record.read"),
    ("records:notes", "own"): resident("record.read"),
    ("records:section", "own results"): resident("record.read"),
    ("records:section", "own medicines"): resident("record.read"),
    ("records:section", "own alerts"): resident("record.read"),
    ("records:section", "own vaccinations"): resident("record.read"),
    ("records:section", "own referrals"): resident("record.read"),
    ("records:vaccination_certificate", "own"): resident("record.read"),
    ("records:export", "own, the form"): nothing,
    ("records:export", "own notes, a page to print"): resident("record.read"),
    # Booking, the resident's side: the list, a booking, the calendar file and feed, every change.
    ("booking:mine", "own"): resident("booking.list.read"),
    ("booking:mine", "the one they act for"): resident("booking.list.read", of=acted_for),
    ("booking:book", "a free slot at unit X"): nothing,  # the confirmation: the slot, nobody's booking
    ("booking:book", "a free slot at unit X, booked"): resident("booking.book", unit="X"),
    ("booking:book", "a free slot at unit X, booked for the one they act for"): resident(
        "booking.book", of=acted_for, unit="X"
    ),
    ("booking:detail", "Tolvan's booking"): resident("booking.detail.read", unit="X"),
    ("booking:detail", "Liam's booking (by his guardian)"): resident("booking.detail.read", of="liam", unit="X"),
    ("booking:detail", "Gunnel's booking (by her proxy)"): resident("booking.detail.read", of="gunnel", unit="X"),
    ("booking:check_in", "Tolvan's booking"): resident("booking.detail.read", unit="X"),
    ("booking:check_in", "Tolvan's booking, checked in at its time"): resident("booking.checkin", unit="X"),
    ("booking:check_in", "Liam's booking (by his guardian)"): resident("booking.detail.read", of="liam", unit="X"),
    ("booking:check_in", "Gunnel's booking, checked in by her proxy at its time"): resident(
        "booking.checkin", of="gunnel", unit="X"
    ),
    ("booking:cancel", "Tolvan's booking"): resident("booking.detail.read", unit="X"),
    ("booking_staff:missed", "Tolvan's booking, an hour past its start"): then(
        staff("booking.read", "patient_a"),
        staff("fees.fee.charge", "patient_a"),
        staff("booking.missed.mark", "patient_a"),
    ),
    ("booking_staff:missed_undo", "Tolvan's booking, marked missed"): then(
        staff("booking.read", "patient_a"),
        staff("fees.fee.withdraw", "patient_a"),
        staff("booking.missed.undo", "patient_a"),
    ),
    # A change is logged once, as the change: the service is the door (no read first).
    ("booking:cancel", "Tolvan's booking, cancelled"): resident("booking.cancel", unit="X"),
    ("booking:cancel", "Liam's booking, cancelled"): resident("booking.cancel", of="liam", unit="X"),
    ("booking:rebook", "Tolvan's booking"): resident("booking.detail.read", unit="X"),
    ("booking:rebook", "Tolvan's booking, moved"): resident("booking.rebook", unit="X"),
    ("booking:rebook", "Gunnel's booking, moved"): resident("booking.rebook", of="gunnel", unit="X"),
    ("booking:ics", "Tolvan's booking"): resident("booking.ics.read", unit="X"),
    # Earlier times: asking, stopping and taking an offered time are each one change of the booking.
    ("booking:earlier_ask", "Tolvan's booking"): resident("booking.earlier.ask", unit="X"),
    ("booking:earlier_ask", "Liam's booking (by his guardian)"): resident("booking.earlier.ask", of="liam", unit="X"),
    ("booking:earlier_withdraw", "Tolvan's booking, waiting"): resident("booking.earlier.withdraw", unit="X"),
    ("booking:external_detail", "Tolvan's appointment from another booking system"): resident(
        "booking.external.read", unit="X"
    ),
    ("booking:external_detail", "Liam's appointment from another booking system"): resident(
        "booking.external.read", of="liam", unit="X"
    ),
    ("booking:external_request", "Tolvan asks another booking system to cancel"): resident(
        "booking.external.request", unit="X"
    ),
    ("booking:external_request", "Liam's guardian asks another booking system for another time"): resident(
        "booking.external.request", of="liam", unit="X"
    ),
    # A published time: the confirm page holds it (no one's data read); booking and cancelling are logged.
    ("booking:external_book", "a time PASiS published at unit X (held while confirming)"): nothing,
    ("booking:external_book", "a time PASiS published at unit X, booked"): resident("booking.external.book", unit="X"),
    ("booking:external_book", "a time PASiS published at unit X, booked for the one they act for"): resident(
        "booking.external.book", of=acted_for, unit="X"
    ),
    # Tolvan confirms again a time she has booked: her booking, nothing new done or logged.
    ("booking:external_book", "a time PASiS published at unit X, booked by Tolvan"): nothing,
    ("booking:external_cancel", "Tolvan cancels a published time she booked"): resident(
        "booking.external.cancel", unit="X"
    ),
    ("booking:external_cancel", "Liam's guardian cancels a published time booked for him"): resident(
        "booking.external.cancel", of="liam", unit="X"
    ),
    ("booking:offer_claim", "an earlier time offered to Tolvan"): resident("booking.earlier.claim", unit="X"),
    ("booking:offer_claim", "an earlier time offered to Liam"): resident("booking.earlier.claim", of="liam", unit="X"),
    ("booking:ics", "Liam's booking"): resident("booking.ics.read", of="liam", unit="X"),
    # The feed has no session: the link's owner is the reader, whoever sends the request.
    ("booking:calendar_feed", "Tolvan's link"): lambda persona: [
        Entry("patient_a", "", "patient_a", "booking.feed.read")
    ],
    ("booking:calendar_feed", "Anna's link (her son Liam's bookings)"): lambda persona: [
        Entry("guardian_9", "liam", "liam", "booking.feed.read")
    ],
    # Calendar links: making and turning off one are changes of the owner's access to their bookings.
    ("booking:calendar_settings", "own"): nothing,  # one's own links: when made, until when, last used
    ("booking:calendar_settings", "Tolvan's link, turned off"): resident("booking.feed.revoke"),
    ("booking:calendar_new", "own"): nothing,  # the choice
    ("booking:calendar_new", "own, a minimal link"): resident("booking.feed.create"),
    # Letters: the list is one entry for whose letters; each open (page or PDF) is one entry.
    ("letters:inbox", "own"): resident("letter.list.read"),
    ("letters:inbox", "the one they act for"): resident("letter.list.read", of=acted_for),
    ("letters:detail", "Tolvan's letter"): resident("letter.open", unit="X"),
    ("letters:detail", "Liam's letter"): resident("letter.open", of="liam", unit="X"),
    ("letters:detail", "Gunnel's letter (her proxy reads it)"): resident("letter.open", of="gunnel", unit="X"),
    ("letters:pdf", "Tolvan's letter"): resident("letter.pdf", unit="X"),
    # Video visits: each page of a visit is one entry; the day's list one per patient shown; the
    # survey's form logs nothing, its answer one entry (the joins, admits and ends: tests/video).
    ("video:room", "Tolvan's video visit"): resident("video.page.read", unit="X"),
    ("video:room", "Liam's video visit (his guardians join with him)"): resident(
        "video.page.read", of="liam", unit="X"
    ),
    ("video:evaluation", "Tolvan's ended video visit"): nothing,
    ("video:drop_in", "the open drop-in queues"): nothing,
    ("video:drop_in", "joining a queue at unit X"): resident("video.queue.join", unit="X"),
    ("video:drop_in_room", "Tolvan's drop-in meeting"): resident("video.page.read", unit="X"),
    ("video_staff:drop_in_room", "Tolvan's drop-in meeting"): staff("video.page.read", "patient_a"),
    ("video_staff:queues", "the units' queues"): nothing,
    ("video_staff:queues", "a queue opened at unit X"): staff("video.queue.open"),
    ("video:evaluation", "Tolvan's ended video visit, answered"): resident("video.evaluate", unit="X"),
    ("video_staff:day", "today, Tolvan's video visit at unit X"): lambda persona: (
        staff("video.day.read", "patient_a")(persona) if persona in ("staff_x", "unit_admin", "region_admin") else []
    ),
    ("video_staff:room", "Tolvan's video visit"): staff("video.page.read", "patient_a"),
    ("video_staff:interpreters", "Tolvan's video visit today"): staff("video.page.read", "patient_a"),
    ("video_staff:interpreters", "Tolvan's video visit today, an interpreter invited"): staff(
        "video.interpreter.invite", "patient_a"
    ),
    ("video_staff:interpreter_withdraw", "patient_b's invitation to interpret at Tolvan's video visit"): staff(
        "video.interpreter.withdraw", "patient_a"
    ),
    # The interpreter is no one's proxy: their own entry, about the patient whose visit it is.
    ("video:interpreter_room", "patient_b's invitation to interpret at Tolvan's video visit"): lambda persona: [
        Entry(persona, "", "patient_a", "video.page.read", "X")
    ],
    # Booking, the unit's side: one entry per patient shown; a change after the booking's read.
    ("booking_staff:book", "unit X"): nothing,  # today: nobody has booked
    ("booking_staff:book", "unit X, the week of the bookings"): staff("booking.read", *IN_THE_BOOK),
    ("booking_staff:book", "another unit (Y)"): nothing,
    ("booking_staff:waiting_list", "unit X, nobody waiting"): nothing,
    ("booking_staff:waiting_list", "unit X, Tolvan waiting"): staff("booking.waiting_list.read", "patient_a"),
    ("booking_staff:waiting_list", "another unit (Y)"): nothing,
    ("booking_staff:slot", "Tolvan's slot at unit X"): staff("booking.read", "patient_a"),
    # Phone booking: the patient's name for the number typed, to confirm ("stämmer det?").
    ("booking_staff:slot", "a phone-only time at unit X, Tolvan's number typed"): staff(
        "booking.patient_check", "patient_a"
    ),
    ("booking_staff:cancel", "Tolvan's booking"): staff("booking.read", "patient_a"),
    ("booking_staff:cancel", "Tolvan's booking, cancelled"): then(
        staff("booking.read", "patient_a"), staff("booking.staff_cancel", "patient_a")
    ),
    ("operations_staff:support_lookup", "the form"): nothing,
    ("operations_staff:support_lookup", "Tolvan"): staff("support.lookup", "patient_a", unit=""),
    ("access_staff:unit_log", "unit X"): staff("audit_log.review"),
    ("access_staff:unit_log", "unit X, after activity in X, in another unit and residents' own"): staff(
        "audit_log.review"
    ),
    ("access_staff:unit_log", "unit X filtered by Tolvan, after activity in X, in another unit and her own"): staff(
        "audit_log.review", "patient_a"
    ),
    ("access_staff:seals", "-"): nothing,  # the form
    ("access_staff:guardians", "-"): nothing,  # the form
    ("access_staff:guardian_block", "Jonas → Elsa (listed at unit X), unblock"): staff(
        "guardian.unblock", "elsa", unit="X"
    ),
    # Cases, the unit's side: the inbox names each patient it shows; a case and its file are reads.
    ("cases_staff:inbox", "unit X"): then(staff("inbox.read"), staff("case.inbox.read", *IN_THE_INBOX)),
    ("cases_staff:inbox", "another unit (Y)"): staff("inbox.read", unit="Y"),  # no cases there
    ("cases_staff:case", "Tolvan's case at unit X"): staff("case.read", "patient_a"),
    ("cases_staff:attachment", "the file of Tolvan's case"): then(
        staff("case.read", "patient_a"), staff("attachment.read", "patient_a")
    ),
    ("cases_staff:case_action", "reply to Tolvan's case"): then(
        staff("case.read", "patient_a"), staff("case.reply", "patient_a")
    ),
    # Administration: every change logged with the unit; its pages are logged as nothing.
    ("booking_staff:setup", "unit X"): nothing,
    ("kiosk:register", "a fresh code for unit X"): nothing,  # the question; registering is POST
    ("kiosk_staff:devices", "unit X"): nothing,
    ("kiosk_staff:devices", "unit X, a kiosk added"): staff("kiosk.device.create"),
    ("kiosk_staff:revoke", "unit X's kiosk"): staff("kiosk.device.revoke"),
    ("letters_staff:texts", "unit X"): nothing,
    ("letters_staff:texts", "unit X, the texts saved"): then(
        staff("letter_template.change"), staff("letter_template.change")
    ),
    ("booking_staff:setup", "unit X, the rules saved"): staff("booking_setup.change"),
    ("booking_staff:visit_type_new", "unit X"): nothing,
    ("booking_staff:visit_type_new", "unit X, a 15-minute vaccination"): staff("booking_setup.change"),
    ("booking_staff:visit_type_edit", "unit X's Hälsosamtal"): nothing,
    ("booking_staff:visit_type_edit", "unit X's Hälsosamtal, out of use"): staff("booking_setup.change"),
    ("booking_staff:template_new", "unit X"): nothing,
    ("booking_staff:template_new", "unit X, Wednesdays 09-11 with staff X"): staff("booking_setup.change"),
    ("booking_staff:template_delete", "a block of unit X"): staff("booking_setup.change"),
    ("booking_staff:exception_new", "unit X"): nothing,
    ("booking_staff:exception_new", "unit X, staff X away a day"): staff("booking_setup.change"),
    ("booking_staff:exception_delete", "an absence at unit X"): staff("booking_setup.change"),
    ("booking_staff:roll", "unit X"): staff("booking_setup.change"),
    ("booking_staff:day_off", "unit X, the next public holiday opened"): staff("booking_setup.change"),
    ("booking_staff:release", "a phone-only time at unit X"): staff("booking_setup.change"),
    ("onboarding:onboarding", "Nyby, with the coordinator's administration"): nothing,
    ("onboarding:unit_admin", "unit X"): nothing,
    ("onboarding:unit_admin", "unit X, news published"): staff("unit.news"),
    ("cases_staff:service_activate", "unit X, advice"): nothing,  # offered already: nothing changes
    ("cases_staff:service_activate", "unit X, lifestyle support (not offered yet)"): staff("service.activate"),
    ("cases_staff:service_edit", "unit X's advice"): nothing,  # the form
    ("cases_staff:region_form_edit", "the region, advice"): nothing,  # the form
    # Region administration: changes of the region's organisation and staff, logged without a unit.
    ("regions:administrations", "the region"): nothing,
    ("regions:administrations", "the region, a new administration"): staff("administration.create", unit=""),
    ("regions:unit_create", "the region"): nothing,
    ("regions:unit_edit", "unit X"): nothing,
    ("regions:staff_add", "the region"): nothing,
    ("regions:staff", "staff X"): nothing,
    ("regions:rules", "the region"): nothing,
    ("regions:fees", "the region"): nothing,
    ("regions:fees", "the region, a fee from tomorrow"): staff("fees.schedule.set", unit=""),
    ("regions:fees", "the region, the ceiling lowered"): staff("fees.rules.update", unit=""),
    ("letters_staff:region_rules", "the region"): nothing,
    ("regions:catalogue", "the region"): nothing,
    ("regions:catalogue_import", "an uploaded extract"): nothing,  # the preview changes nothing
    ("regions:staff", "staff X, support granted"): staff("region_role.grant", unit=""),
    ("regions:information", "the region, accessibility"): nothing,
    ("regions:information", "the region, about, saved"): staff("information_page.update", unit=""),
}


# --- the tests --------------------------------------------------------------------------------------


def passing(row: Row) -> list[str]:
    """Who passes the row: the logged-in personas with 200 or 302; for a public URL (the same for
    everyone) one anonymous request stands for all."""
    if len(set(row.expect.values())) == 1:
        return ["anonymous"] if row.expect["anonymous"] in (200, 302) else []
    return [p for p in ALL if p != "anonymous" and row.expect[p] in (200, 302)]


def test_every_url_is_declared():
    names = {row.name for row in ROWS}
    kinds = [PATIENT_DATA, ADMINISTRATION, set(NO_PATIENT_DATA)]
    undeclared = sorted(name for name in names if sum(name in kind for kind in kinds) != 1)
    assert undeclared == [], "declare each URL once: patient data, administration, or no patient data"
    assert set().union(*kinds) <= names, "a declared URL the matrix no longer has"
    logged = PATIENT_DATA | ADMINISTRATION
    rows = {(row.name, row.label): row for row in ROWS}
    missing = sorted(key for key, row in rows.items() if row.name in logged and passing(row) and key not in TRAIL)
    assert missing == [], "write the trail of these rows"
    assert set(TRAIL) <= set(rows), f"trails of rows the matrix no longer has: {sorted(set(TRAIL) - set(rows))}"
    assert all(rows[key].name in logged for key in TRAIL)


def test_every_url_of_patient_data_shows_its_entries_somewhere():
    """A URL of patient data leaves an entry in one of its rows, or the matrix reaches it only with
    a form or a refusal and another test proves its entries (the test must exist)."""
    rows = {(row.name, row.label): row for row in ROWS}
    shown = {rows[key].name for key, trail in TRAIL.items() if any(trail(p) for p in passing(rows[key]))}
    unproven = sorted((PATIENT_DATA | ADMINISTRATION) - shown - set(ELSEWHERE))
    assert unproven == [], "these URLs leave no entry in any row: add a row that shows the data"
    assert set(ELSEWHERE) <= PATIENT_DATA | ADMINISTRATION
    root = Path(__file__).resolve().parents[2]
    for name, where in ELSEWHERE.items():
        path, test = where.split("::")
        assert re.search(rf"^def {test}\(", (root / path).read_text(), re.MULTILINE), f"{name}: {where} is gone"


def names_of(personas: Personas) -> dict[str, str]:
    """Ids in the log → the names the trails use."""
    names = {}
    for persona in ALL:
        person = who(personas, persona)
        if person is not None:
            names[str(person.pk)] = persona
    names |= {str(personas.child_9.pk): "liam", str(personas.principal.pk): "gunnel"}
    names |= {str(personas.blocked_child.pk): "elsa", "": ""}
    for unit in CareUnit.objects.filter(name__in=["Vårdcentralen Lindängen", "Vårdcentralen Kärnan"]):
        names[str(unit.pk)] = "X" if unit.name == "Vårdcentralen Lindängen" else "Y"
    return names


def entry_of(logged: AuditEntry, names: dict[str, str]) -> Entry:
    def name(value: str) -> str:
        return names.get(value, value)

    return Entry(
        name(logged.actor_id),
        name(logged.on_behalf_of_id),
        name(logged.patient_id),
        logged.action,
        name(logged.unit_id),
    )


def send(row: Row, personas: Personas, persona: str, names: dict[str, str]) -> tuple[int, list[Entry]]:
    """The row's request as the persona, and the entries it added; rolled back afterwards."""
    with transaction.atomic():
        request = prepare(row, personas, persona)  # logs in and makes the row's objects: not counted
        before = AuditEntry.objects.aggregate(last=Max("sequence"))["last"] or 0
        response = request()
        added = [entry_of(e, names) for e in AuditEntry.objects.filter(sequence__gt=before).order_by("sequence")]
        transaction.set_rollback(True)
    return response.status_code, added


def walk(personas: Personas, rows: list[Row]) -> list[str]:
    names = names_of(personas)
    wrong = []
    for row in rows:
        for persona in passing(row):
            status, added = send(row, personas, persona, names)
            expected = TRAIL[(row.name, row.label)](persona)
            if status != row.expect[persona]:
                wrong.append(
                    f"{row.name} [{row.label}] {persona}: status {status}, the matrix says {row.expect[persona]}"
                )
            elif sorted(added) != sorted(expected):
                wrong.append(f"{row.name} [{row.label}] {persona}:\n  logged   {added}\n  expected {expected}")
    return wrong


@in_the_matrix_world
@pytest.mark.parametrize("side", ["residents", "staff"])
def test_each_request_leaves_exactly_its_entries(personas: Personas, side: str):
    """Two halves (the residents' URLs and everyone else's), so a parallel run can share them."""
    logged = [row for row in ROWS if (row.name, row.label) in TRAIL]
    half = [
        row for row in logged if any(row.expect[p] in (200, 302) for p in PATIENT_PERSONAS) == (side == "residents")
    ]
    wrong = walk(personas, half)
    assert wrong == [], "\n".join(wrong)


@in_the_matrix_world
def test_urls_without_patient_data_name_no_patient(personas: Personas):
    """Sent once each (by the first persona who passes): a URL declared as showing no patient data
    that logs a patient is declared wrongly."""
    names = names_of(personas)
    wrong = []
    for row in ROWS:
        if row.name in NO_PATIENT_DATA and passing(row):
            _status, added = send(row, personas, passing(row)[0], names)
            wrong += [f"{row.name} [{row.label}]: {entry}" for entry in added if entry.patient]
    assert wrong == []
