"""Journalen's prescriptions, alerts, vaccinations and referrals (issue 21), imported as the source
systems send them, read through the record's door: the publishing rules, who may read, the seal,
one audit entry per section read, the extract, the certificate and the renew form."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.fhir import clinical_bundles as cb
from tests.records.helpers import client_for, unit_of_kind
from tests.records.test_chart_and_export import _pdf_text
from vardkontakt.access.models import AuditEntry, Proxy
from vardkontakt.access.services import record_seal
from vardkontakt.fhir.importer import Sender, import_bundle
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import RecordPreferences

pytestmark = pytest.mark.django_db

SECTIONS = ("/record/medicines/", "/record/alerts/", "/record/vaccinations/", "/record/referrals/")


def _everything(number: str = cb.TOLVAN) -> None:
    today = timezone.localdate()
    bundles = [
        cb.prescription_bundle(today),
        cb.alerts_bundle(today),
        cb.transaction(cb.vaccination(today)),
        cb.referral_bundle(today, "sent"),
        cb.referral_bundle(today, "received", hours=1),
        cb.referral_bundle(today, "accepted", hours=2),
    ]
    for bundle in bundles:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            for key in ("subject", "patient"):
                if key in resource:
                    resource[key] = cb.subject(number)
        import_bundle(bundle, sender=Sender("pmo"))


def _reads(patient) -> list[str]:
    return list(
        AuditEntry.objects.filter(action="record.read", patient_id=str(patient.pk))
        .order_by("sequence")
        .values_list("detail", flat=True)
    )


def test_each_section_shows_what_was_sent_and_each_read_is_one_audit_entry(personas):
    _everything()
    client = client_for(personas.tolvan)
    medicines = client.get("/record/medicines/").text
    assert "Ramipril 5 mg tablett" in medicines and "1 tablett morgon" in medicines
    assert "Rut Receptsson, läkare" in medicines and "Vårdcentralen Lindängen" in medicines
    assert "Uttag kvar" in medicines and ">2<" in medicines.replace("</td>", "<").replace('cell">', ">")
    alerts = client.get("/record/alerts/").text
    assert alerts.index("Penicillin V") < alerts.index("Jordnötter") < alerts.index("Waran")
    assert "Allvarlig" in alerts and "obekräftad" in alerts and "Nässelfeber, Andnöd (svår)" in alerts
    vaccinations = client.get("/record/vaccinations/").text
    assert "Influvac Tetra" in vaccinations and "J07BB02" in vaccinations and "1/1" in vaccinations
    referrals = client.get("/record/referrals/").text
    assert "Till Ortopedmottagningen, Lindängens sjukhus" in referrals and "Knäsmärta" in referrals
    history = referrals[referrals.index("Statushistorik") :]
    assert history.index("skickad") < history.index("mottagen") < history.index("accepterad")
    assert _reads(personas.tolvan) == ["medicines", "alerts", "vaccinations", "referrals"]


def test_the_overview_shows_a_critical_allergy_first_and_the_referrals(personas):
    _everything()
    page = client_for(personas.tolvan).get("/record/").text
    assert page.index("Uppmärksamhetsinformation") < page.index("Senaste anteckningarna")
    assert page.index("Penicillin V") < page.index("Jordnötter")
    assert "Mina remisser" in page and "accepterad" in page
    assert _reads(personas.tolvan) == ["overview"]


@pytest.mark.parametrize("kind", [UnitKind.CHILD_PSYCHIATRY, "harm_assessment"])
def test_a_unit_whose_data_is_never_published_shows_nothing_in_the_new_sections(personas, kind):
    unit = CareUnit.objects.get(hsa_id=cb.LINDANGEN)
    if kind == "harm_assessment":
        unit.needs_harm_assessment = True
        unit.save(update_fields=["needs_harm_assessment"])
    else:
        unit.kind = kind
        unit.save(update_fields=["kind"])
    _everything()
    client = client_for(personas.tolvan)
    for url, hidden in zip(SECTIONS, ("Ramipril", "Penicillin", "Influvac", "Ortoped"), strict=True):
        page = client.get(url).text
        assert hidden not in page, url
        assert "Viss information i journalen visas inte här" in page, url
    assert "Penicillin" not in client.get("/record/").text


def test_the_14_day_choice_hides_recent_entries_by_their_own_date_and_says_so(personas):
    today = timezone.localdate()
    import_bundle(
        cb.transaction(
            cb.vaccination(today, "recent", occurrenceDateTime=f"{cb.day(today, 3)}T09:00:00+01:00"),
            cb.vaccination(today, "old", vaccineCode={"text": "Stelkrampsvaccin"}),
        ),
        sender=Sender("svevac"),
    )
    RecordPreferences.objects.create(patient=personas.tolvan, hide_recent=True)
    page = client_for(personas.tolvan).get("/record/vaccinations/").text
    assert "Stelkrampsvaccin" in page and "Influvac" not in page
    assert "Du har valt att dölja uppgifter om vård de senaste 14 dagarna" in page


def test_a_guardian_reads_the_young_childs_sections_but_not_the_teenagers(personas):
    _everything(personas.child_9.personnummer)
    guardian = client_for(personas.guardian, acting_for=personas.child_9)
    assert "Penicillin V" in guardian.get("/record/alerts/").text
    assert "Ortoped" in guardian.get("/record/referrals/").text
    entry = AuditEntry.objects.filter(action="record.read", patient_id=str(personas.child_9.pk)).latest("sequence")
    assert (entry.detail, entry.actor_id) == ("referrals", str(personas.guardian.pk))
    assert guardian.post("/acting-for/", {"subject": str(personas.child_14.pk)}).status_code == 404
    page = client_for(personas.child_14).get("/record/alerts/")
    assert page.status_code == 403


def test_a_proxy_needs_the_record_scope_and_the_seal_closes_every_new_section(personas):
    _everything(personas.principal.personnummer)
    proxy = client_for(personas.adult_proxy, acting_for=personas.principal)
    assert "Influvac" in proxy.get("/record/vaccinations/").text
    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_record=False)
    assert proxy.get("/record/vaccinations/").status_code == 403
    own = client_for(personas.principal)
    record_seal(patient=personas.principal)
    for url in (*SECTIONS, "/record/vaccinations/certificate/"):
        page = own.get(url)
        assert page.status_code == 403, url
        assert "Influvac" not in page.text and "Penicillin" not in page.text


def test_the_vaccination_certificate_is_a_tagged_pdf_and_its_read_is_logged(personas, monkeypatch):
    from vardkontakt.records import export

    _everything()
    made: list[str] = []
    real_pdf = export.pdf

    def keep(html: str) -> bytes:
        made.append(html)
        return real_pdf(html)

    monkeypatch.setattr(export, "pdf", keep)
    response = client_for(personas.tolvan).get("/record/vaccinations/certificate/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    for marker in (b"/StructTreeRoot", b"/Marked true", b"/Lang", b"pdfuaid:part", b"/Table"):
        assert marker in text, marker
    assert 'filename="vaccinationer-' in response["Content-Disposition"]
    assert "Tolvan" not in response["Content-Disposition"]
    assert "Intyg om vaccinationer" in made[0] and "Influvac Tetra" in made[0] and "19121212-1212" in made[0]
    assert _reads(personas.tolvan) == ["vaccinations.certificate"]


def test_the_extract_carries_the_new_sections_each_logged(personas):
    _everything()
    page = client_for(personas.tolvan).post(
        "/record/export/",
        {"sections": ["prescriptions", "alerts", "vaccinations", "referrals"], "output": "html"},
    )
    assert page.status_code == 200
    for text in ("Ramipril 5 mg tablett", "Penicillin V", "obekräftad", "Influvac Tetra", "Ortopedmottagningen"):
        assert text in page.text, text
    assert sorted(_reads(personas.tolvan)) == [
        "export.alerts",
        "export.prescriptions",
        "export.referrals",
        "export.vaccinations",
    ]


def test_the_renew_form_offers_a_prescription_running_out_and_not_one_with_many_left(personas):
    from vardkontakt.cases.selectors import renewable_medicines

    today = timezone.localdate()
    running_out = cb.prescription(
        today,
        "rx-out",
        medicationCodeableConcept={"text": "Enalapril 10 mg"},
        dispenseRequest={"numberOfRepeatsAllowed": 0},
    )
    import_bundle(cb.transaction(running_out, cb.prescription(today)), sender=Sender("pmo"))
    offered = [text for _pk, text in renewable_medicines(reader=personas.tolvan, subject=personas.tolvan).choices]
    assert any(text.startswith("Enalapril 10 mg") and "1 uttag kvar" in text for text in offered), offered
    assert not any(text.startswith("Ramipril") for text in offered)
    # A prescription of a unit whose data is never published is never offered either.
    unit = unit_of_kind(UnitKind.FORENSIC_PSYCHIATRY)
    import_bundle(
        cb.transaction(
            cb.prescription(
                today,
                "rx-hidden",
                medicationCodeableConcept={"text": "Hemligt läkemedel"},
                extension=cb.unit_ext(unit.hsa_id),
                dispenseRequest={"numberOfRepeatsAllowed": 0},
            )
        ),
        sender=Sender("pmo"),
    )
    offered = [text for _pk, text in renewable_medicines(reader=personas.tolvan, subject=personas.tolvan).choices]
    assert not any("Hemligt" in text for text in offered)


def test_an_entry_taken_out_leaves_the_page(personas):
    today = timezone.localdate()
    _everything()
    import_bundle(cb.transaction(cb.vaccination(today, status="entered-in-error")), sender=Sender("pmo"))
    assert "Influvac" not in client_for(personas.tolvan).get("/record/vaccinations/").text
