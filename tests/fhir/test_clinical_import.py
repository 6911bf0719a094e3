"""Prescriptions, alerts, vaccinations and referrals as FHIR R4 (issue 21): mapped, idempotent,
taken back out with a tombstone, refused with the place named, never a server error."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir import clinical_bundles as cb
from vardkontakt.access.models import AuditEntry
from vardkontakt.fhir.importer import FhirRejected, Sender, import_bundle, import_resource, operation_outcome
from vardkontakt.notifications.models import Notification, NotificationKind
from vardkontakt.records import sections
from vardkontakt.records.models import (
    Alert,
    Medicine,
    Prescription,
    RecordPreferences,
    Referral,
    ReferralEvent,
    RemovedEntry,
    Vaccination,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def test_a_prescription_with_two_dispensings_has_two_of_four_left(personas, today):
    result = import_bundle(cb.prescription_bundle(today), sender=Sender("nll"))
    assert result.created == 4
    prescription = Prescription.objects.get()
    assert (prescription.name, prescription.dosage, prescription.status) == (
        "Ramipril 5 mg tablett",
        "1 tablett morgon",
        "active",
    )
    assert (prescription.prescriber_name, prescription.prescriber_profession) == ("Rut Receptsson", "doctor")
    assert prescription.unit.hsa_id == cb.LINDANGEN and prescription.repeats_allowed == 3
    assert set(Medicine.objects.values_list("prescription_source_id", flat=True)) == {prescription.source_id}
    [row] = sections.prescription_rows(personas.tolvan, [prescription], today)
    # numberOfRepeatsAllowed counts the dispensings after the first: 1 + 3 allowed, 2 made.
    assert (row.dispensed, row.left) == (2, 2)
    assert not row.renewable  # two left and a year of validity: nothing to renew yet


def test_a_dispensing_names_a_prescription_already_held_by_id_or_identifier(personas, today):
    import_bundle(cb.transaction(cb.prescription(today)), sender=Sender("nll"))
    held = Prescription.objects.get()
    by_id = cb.dispense(today, "d-a", 10, {"reference": f"MedicationRequest/{held.pk}"})
    by_identifier = cb.dispense(
        today, "d-b", 3, {"identifier": {"system": "urn:oid:1.2.752.129.2.1.2.1", "value": "rx-0301"}}
    )
    import_bundle(cb.transaction(by_id, by_identifier), sender=Sender("apotek"))  # another system: the pharmacy
    [row] = sections.prescription_rows(personas.tolvan, [held], today)
    assert row.dispensed == 2


def test_a_prescription_used_up_is_offered_for_renewal_and_a_stopped_one_is_not(personas, today):
    used_up = cb.prescription(today, "rx-a", dispenseRequest={"numberOfRepeatsAllowed": 1})
    stopped = cb.prescription(today, "rx-b", status="stopped", dispenseRequest={"numberOfRepeatsAllowed": 0})
    old = cb.prescription(today, "rx-c", status="completed", authoredOn=cb.day(today, 800), dispenseRequest={})
    import_bundle(
        cb.transaction(
            used_up,
            stopped,
            old,
            cb.dispense(today, "d1", 40, {"reference": "urn:uuid:a"}),
            urls={0: "urn:uuid:a"},
        ),
        sender=Sender("nll"),
    )
    renewable = sections.renewable_prescriptions(personas.tolvan)
    assert [row.prescription.source_id for row in renewable] == ["urn:oid:1.2.752.129.2.1.2.1|rx-a"]
    assert renewable[0].left == 1


def test_entered_in_error_takes_a_prescription_out_with_a_tombstone(personas, today):
    import_bundle(cb.prescription_bundle(today), sender=Sender("nll"))
    import_bundle(cb.transaction(cb.prescription(today, status="entered-in-error")), sender=Sender("nll"))
    assert not Prescription.objects.exists()
    tombstone = RemovedEntry.objects.get(kind="Prescription")
    assert tombstone.reason == "entered-in-error"
    assert AuditEntry.objects.filter(action="fhir.remove", object_id=str(tombstone.pk)).exists()


def test_alerts_keep_criticality_and_verification_and_a_refuted_one_goes(personas, today):
    import_bundle(cb.alerts_bundle(today), sender=Sender("pmo"))
    shown = list(sections.shown_alerts(Alert.objects.filter(patient=personas.tolvan)))
    assert [a.text for a in shown] == [
        "Penicillin V",
        "Jordnötter",
        "Behandlas med blodförtunnande läkemedel (Waran)",
    ]
    penicillin, peanuts, warfarin = shown
    assert penicillin.critical and penicillin.confirmed and penicillin.reactions == "Nässelfeber, Andnöd (svår)"
    with translation.override("sv"):
        assert not peanuts.confirmed and peanuts.category_label == "livsmedel"
    assert warfarin.kind == "warning" and warfarin.category == "Behandling"
    refuted = cb.allergy(today, "al-2", verificationStatus={"coding": [{"code": "refuted"}]})
    import_bundle(cb.transaction(refuted), sender=Sender("pmo"))
    assert not Alert.objects.filter(text="Jordnötter").exists()
    assert RemovedEntry.objects.get().reason == "refuted"
    import_bundle(cb.transaction(cb.warning(today, status="inactive")), sender=Sender("pmo"))
    assert [a.text for a in sections.shown_alerts(Alert.objects.all())] == ["Penicillin V"]


def test_a_vaccination_is_mapped_and_one_not_done_is_never_shown(personas, today):
    import_bundle(cb.transaction(cb.vaccination(today)), sender=Sender("svevac"))
    given_one = Vaccination.objects.get()
    assert (given_one.vaccine, given_one.vaccine_code, given_one.dose, given_one.lot_number) == (
        "Influvac Tetra",
        "J07BB02",
        "1/1",
        "AAJN11K",
    )
    assert given_one.given_on == today - cb.dt.timedelta(days=60)
    import_bundle(cb.transaction(cb.vaccination(today, "imm-2", status="not-done")), sender=Sender("svevac"))
    assert Vaccination.objects.count() == 1  # never held, nothing to take out


def test_a_referral_keeps_its_status_history_and_a_change_sends_a_neutral_notice(personas, today):
    tolvan = personas.tolvan
    for hours, status in enumerate(("sent", "received", "accepted")):
        import_bundle(cb.referral_bundle(today, status, hours=hours), sender=Sender("pmo"))
        import_bundle(cb.referral_bundle(today, status, hours=hours), sender=Sender("pmo"))  # a re-send: no event
    referral = Referral.objects.get()
    assert (referral.status, referral.to_unit, referral.reason) == (
        "accepted",
        "Ortopedmottagningen, Lindängens sjukhus",
        "Knäsmärta sedan ett halvår",
    )
    assert list(ReferralEvent.objects.values_list("status", flat=True)) == ["sent", "received", "accepted"]
    notices = Notification.objects.filter(recipient=tolvan, kind=NotificationKind.REFERRAL_STATUS)
    assert notices.count() == 2  # the two changes, not the first arrival nor the re-sends
    from vardkontakt.notifications.messages import render

    text = render(NotificationKind.REFERRAL_STATUS, language="sv")
    assert "Ortoped" not in text.body and "Knä" not in text.body and "remiss" not in text.body.lower()


def test_no_referral_notice_while_sealed_or_hiding_the_last_14_days(personas, today):
    RecordPreferences.objects.create(patient=personas.tolvan, hide_recent=True)
    import_bundle(cb.referral_bundle(today, "sent"), sender=Sender("pmo"))
    import_bundle(cb.referral_bundle(today, "received", hours=1), sender=Sender("pmo"))
    assert not Notification.objects.filter(kind=NotificationKind.REFERRAL_STATUS).exists()
    assert ReferralEvent.objects.count() == 2


def test_a_revoked_referral_is_withdrawn_and_its_fhir_status_alone_is_enough(personas, today):
    import_bundle(cb.referral_bundle(today, None), sender=Sender("pmo"))
    assert Referral.objects.get().status == "sent"
    import_bundle(cb.referral_bundle(today, None, fhir_status="revoked", hours=1), sender=Sender("pmo"))
    assert Referral.objects.get().status == "withdrawn"
    import_bundle(cb.referral_bundle(today, "refused", fhir_status="revoked", hours=2), sender=Sender("pmo"))
    assert Referral.objects.get().status == "refused"


def test_the_same_bundles_again_change_nothing(personas, today):
    bundles = [
        cb.prescription_bundle(today),
        cb.alerts_bundle(today),
        cb.transaction(cb.vaccination(today)),
        cb.referral_bundle(today),
    ]
    for made in bundles:
        import_bundle(made, sender=Sender("pmo"))
    before = [m.objects.count() for m in (Prescription, Medicine, Alert, Vaccination, Referral, ReferralEvent)]
    for made in bundles:
        again = import_bundle(made, sender=Sender("pmo"))
        assert again.created == 0
    assert [m.objects.count() for m in (Prescription, Medicine, Alert, Vaccination, Referral, ReferralEvent)] == before


def test_one_resource_by_create_is_the_same_as_in_a_bundle(personas, today):
    outcome = import_resource(cb.vaccination(today), resource_type="Immunization", sender=Sender("svevac"))
    assert outcome.created and isinstance(outcome.obj, Vaccination)


def _bad(today):
    return [
        (cb.prescription(today, status="unknown"), "status"),
        (cb.prescription(today, intent="proposal"), "intent"),
        (cb.prescription(today, medicationCodeableConcept={"coding": [{"code": "x"}]}), "medication[x]"),
        (cb.prescription(today, authoredOn=None), "authoredOn"),
        (cb.prescription(today, dispenseRequest={"numberOfRepeatsAllowed": 2**40}), "numberOfRepeatsAllowed"),
        (
            cb.prescription(today, requester={"identifier": {"system": cb.HSA_SYSTEM, "value": "SE-NOBODY"}}),
            "requester",
        ),
        (cb.dispense(today, "d", 1, {"reference": "MedicationRequest/not-held"}), "authorizingPrescription[0]"),
        (cb.dispense(today, "d", 1, {"reference": "urn:uuid:nowhere"}), "authorizingPrescription[0]"),
        (cb.allergy(today, criticality="deadly"), "criticality"),
        (cb.allergy(today, verificationStatus={"coding": [{"code": "maybe"}]}), "verificationStatus"),
        (cb.allergy(today, code={"coding": [{"code": "x"}]}), "code"),
        (cb.allergy(today, patient={"reference": "Patient/123"}), "patient"),
        (cb.allergy(today, recordedDate="2026"), "recordedDate"),
        (cb.warning(today, period={}), "period.start"),
        (cb.warning(today, status="cancelled"), "status"),
        (cb.vaccination(today, occurrenceDateTime=None, occurrenceString="i våras"), "occurrenceDateTime"),
        (cb.vaccination(today, vaccineCode={"coding": [{"code": "J07"}]}), "vaccineCode"),
        (cb.referral(today, "lost"), "extension"),
        (cb.referral(today, "sent") | {"performer": []}, "performer[0]"),
        (cb.referral(today, "sent") | {"status": "draft"}, "status"),
        (cb.referral(today, "sent") | {"meta": {"lastUpdated": "2026-02-30T10:00:00+01:00"}}, "meta"),
        (cb.referral(today, "sent") | {"authoredOn": "not a date"}, "authoredOn"),
    ]


@pytest.mark.parametrize("case", range(22))
def test_a_bad_clinical_resource_is_refused_with_its_place_named_and_nothing_stored(personas, today, case):
    resource, where = _bad(today)[case]
    good = cb.vaccination(today, "good")
    with pytest.raises(FhirRejected) as caught:
        import_bundle(cb.transaction(good, resource), sender=Sender("pmo"))
    locations = [issue.location for issue in caught.value.issues]
    assert any(where in location for location in locations), locations
    assert all(location.startswith("Bundle.entry[1]") for location in locations), locations
    assert not Vaccination.objects.exists()
    assert operation_outcome(caught.value.issues)["issue"][0]["severity"] == "error"


def test_the_bad_cases_are_all_run():
    assert len(_bad(timezone.localdate())) == 22


def test_a_unit_the_client_is_not_registered_for_is_forbidden(personas, today):
    from vardkontakt.organisation.models import CareUnit

    own = CareUnit.objects.get(hsa_id=cb.LINDANGEN)
    other = CareUnit.objects.exclude(pk=own.pk).first()
    assert other is not None
    with pytest.raises(FhirRejected) as caught:
        import_bundle(
            cb.transaction(cb.allergy(today, extension=cb.unit_ext(other.hsa_id))),
            sender=Sender("pmo", units=frozenset({own.pk})),
        )
    assert [issue.code for issue in caught.value.issues] == ["forbidden"]


FIELDS = {
    "MedicationRequest": [
        "status",
        "intent",
        "medicationCodeableConcept",
        "authoredOn",
        "dispenseRequest",
        "requester",
    ],
    "AllergyIntolerance": ["criticality", "category", "code", "reaction", "verificationStatus", "recordedDate"],
    "Flag": ["status", "code", "period", "category"],
    "Immunization": ["status", "vaccineCode", "occurrenceDateTime", "protocolApplied", "lotNumber"],
    "ServiceRequest": ["status", "intent", "extension", "performer", "reasonCode", "meta", "authoredOn"],
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


def _examples(today) -> dict[str, dict[str, Any]]:
    return {
        "MedicationRequest": cb.prescription(today),
        "AllergyIntolerance": cb.allergy(today),
        "Flag": cb.warning(today),
        "Immunization": cb.vaccination(today),
        "ServiceRequest": cb.referral(today, "sent"),
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(kind=st.sampled_from(sorted(FIELDS)), data=st.data(), value=JSON)
def test_any_garbage_in_a_clinical_field_is_a_refusal_or_an_import_never_a_crash(personas, kind, data, value):
    resource = copy.deepcopy(_examples(timezone.localdate())[kind])
    resource[data.draw(st.sampled_from(FIELDS[kind]))] = value
    try:
        import_bundle(cb.transaction(resource), sender=Sender("fuzz"))
    except FhirRejected as rejected:
        assert rejected.issues


def test_what_is_kept_reads_back_as_valid_r4_of_its_own_type(personas, today):
    from vardkontakt.fhir import resources
    from vardkontakt.fhir.importer import MODELS

    import_bundle(cb.prescription_bundle(today), sender=Sender("pmo"))
    import_bundle(cb.alerts_bundle(today), sender=Sender("pmo"))
    import_bundle(cb.transaction(cb.vaccination(today)), sender=Sender("pmo"))
    import_bundle(cb.referral_bundle(today, "scheduled"), sender=Sender("pmo"))
    rows: list[tuple[str, Any]] = [
        ("MedicationRequest", Prescription.objects.get()),
        ("MedicationDispense", Medicine.objects.filter(source_system="pmo").earliest("dispensed_on")),
        ("AllergyIntolerance", Alert.objects.get(text="Jordnötter")),
        ("Flag", Alert.objects.get(kind="warning")),
        ("Immunization", Vaccination.objects.get()),
        ("ServiceRequest", Referral.objects.get()),
    ]
    for resource_type, row in rows:
        written = resources.as_fhir(resource_type, row)
        MODELS[resource_type].model_validate(written)
        assert written["identifier"][0]["value"] in row.source_id
    dispense = resources.as_fhir("MedicationDispense", rows[1][1])
    assert dispense["authorizingPrescription"][0]["identifier"]["value"] == "rx-0301"
    referral = resources.as_fhir("ServiceRequest", rows[5][1])
    assert referral["extension"][1]["valueCode"] == "scheduled"
