"""Browser tests of Journalen: the patient reads, filters and pages through notes, sees the other
sections, chooses to see unsigned notes or hide recent ones; a guardian reads the young child's
record and not the teenager's; a proxy reads the principal's; a sealed record shows nothing.

Every test gives each persona a note of their own and checks, on every page it visits, that no
note of a person the reader may not read ever shows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, expect

from tests.browser.conftest import UI
from vardkontakt.demo import demo_data
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import CareContact, Diagnosis, LabResult, Medicine, RecordNote

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"
WITHHELD = "Viss information i journalen visas inte här"
UNSIGNED_WARNING = "Inte signerad: kan innehålla fel"
HIDDEN_BY_CHOICE = "Du har valt att dölja uppgifter om vård de senaste 14 dagarna, och några är dolda här nu."
_ids = itertools.count()


def _unit(kind: str = UnitKind.PRIMARY_CARE) -> CareUnit:
    unit = CareUnit.objects.filter(kind=kind).order_by("name").first()
    assert unit is not None
    return unit


def _item(patient: Patient, unit: CareUnit | None = None, received_days_ago: int = 30) -> dict[str, object]:
    """What every copied record item carries: whose, from where, the source's key, when it came."""
    return {
        "patient": patient,
        "unit": unit or _unit(),
        "source_system": "browser-test",
        "source_id": f"bt-{next(_ids)}",
        "received_at": timezone.now() - dt.timedelta(days=received_days_ago),
    }


def note(
    patient: Patient,
    text: str,
    written_on: dt.date,
    *,
    profession: str = "doctor",
    signed: bool = True,
    template: str = "Besöksanteckning",
    unit: CareUnit | None = None,
    received_days_ago: int = 30,
) -> RecordNote:
    return RecordNote.objects.create(
        **_item(patient, unit, received_days_ago),
        text=text,
        written_on=written_on,
        signed=signed,
        template=template,
        author_profession=profession,
        author_name="Sara Sjuksköterska" if profession == "nurse" else "Doktor Exempel",
    )


@dataclass
class Reader:
    """A browser session that checks, on each page it reaches, that no foreign note text shows."""

    ui: UI
    foreign: list[str]

    def _nothing_foreign(self) -> None:
        content = self.ui.page.content()
        shown = [text for text in self.foreign if text in content]
        assert shown == [], f"{self.ui.page.url} shows another person's notes: {shown}"

    def goto(self, path: str) -> None:
        self.ui.goto(path)
        self._nothing_foreign()

    def click(self, name: str | re.Pattern[str], *, role: str = "button") -> None:
        self.ui.click(name, role=role)  # type: ignore[arg-type]
        self._nothing_foreign()

    def tab(self, name: str) -> None:
        """One of the record's own tabs (its navigation), not a link of the same name elsewhere."""
        with self.ui.page.expect_navigation():
            self.ui.page.get_by_role("navigation", name="Journalen").get_by_role("link", name=name, exact=True).click()
        self.ui.check()
        self._nothing_foreign()


@pytest.fixture
def everyones_note(personas) -> dict[str, str]:
    """One signed note each, so that a page showing a note of the wrong person is caught."""
    people = {
        "tolvan": personas.tolvan,
        "other": personas.other_patient,
        "anna": personas.guardian,
        "liam": personas.child_9,
        "saga": personas.child_14,
        "maria": personas.adult_proxy,
        "gunnel": personas.principal,
        "sofia": personas.sealed,
    }
    texts = {}
    for key, patient in people.items():
        texts[key] = f"Anteckning om {patient.given_name}: mår bra efter behandlingen."
        note(patient, texts[key], dt.date(2024, 6, 1))
    return texts


def _reader(ui: UI, everyones_note: dict[str, str], *own: str) -> Reader:
    return Reader(ui, [text for key, text in everyones_note.items() if key not in own])


def _heading(ui: UI) -> Locator:
    return ui.page.get_by_role("heading", level=1)


def _notes(ui: UI) -> Locator:
    return ui.page.get_by_role("article")


def _status(ui: UI, text: str) -> Locator:
    return ui.page.get_by_role("status").filter(has_text=text)


def _acting_banner(ui: UI) -> Locator:
    return ui.page.get_by_role("region", name="Vem du agerar för")


def test_the_patient_reads_filters_and_pages_through_her_notes(ui, personas, everyones_note):
    tolvan = personas.tolvan
    for n in range(20):
        note(tolvan, f"Läkarbesök nummer {n + 1:02d}.", dt.date(2025, 1, 1) + dt.timedelta(days=n))
    for n in range(8):
        note(
            tolvan,
            f"Sjuksköterskebesök nummer {n + 1}.",
            dt.date(2025, 3, 1) + dt.timedelta(days=n),
            profession="nurse",
        )
    note(tolvan, "Tidig tanke om orsaken.", dt.date(2025, 4, 2), template="Tidiga hypoteser")
    note(tolvan, "Ej signerat: blodtrycket kontrolleras igen.", dt.date(2025, 4, 1), signed=False)
    # 29 notes shown: the 28 above and last year's; never the hypothesis, nor (yet) the unsigned one.
    reader = _reader(ui, everyones_note, "tolvan")
    reader.foreign += ["Tidig tanke om orsaken.", "Ej signerat: blodtrycket"]

    ui.login(TOLVAN_ID)
    reader.click("Journalen", role="link")
    expect(_heading(ui)).to_have_text("Din journal")
    expect(ui.page.get_by_text(WITHHELD)).to_be_visible()

    reader.tab("Anteckningar")
    expect(_heading(ui)).to_have_text("Anteckningar")
    expect(ui.page.get_by_text(WITHHELD)).to_be_visible()
    expect(ui.page.get_by_text("1 anteckning är inte signerad och visas inte.", exact=False)).to_be_visible()
    expect(_notes(ui)).to_have_count(25)
    # Newest first: the nurse's in March, then the doctor's in January, then last year's.
    expect(_notes(ui).first).to_contain_text("2025-03-08")
    expect(_notes(ui).first).to_contain_text("Sjuksköterskebesök nummer 8.")
    expect(_notes(ui).nth(8)).to_contain_text("Läkarbesök nummer 20.")
    pages = ui.page.get_by_role("navigation", name="Sidor")
    expect(pages.get_by_role("link", name="Nyare")).to_have_count(0)
    reader.click("Äldre", role="link")
    expect(_notes(ui)).to_have_count(4)
    expect(_notes(ui).nth(2)).to_contain_text("Läkarbesök nummer 01.")
    expect(_notes(ui).last).to_contain_text(everyones_note["tolvan"])
    reader.click("Nyare", role="link")
    expect(_notes(ui)).to_have_count(25)

    # By profession: the nurse's eight notes, on one page.
    ui.page.get_by_label("Yrke").select_option(label="sjuksköterska")
    reader.click("Filtrera")
    expect(_notes(ui)).to_have_count(8)
    expect(_notes(ui)).to_contain_text([f"Sjuksköterskebesök nummer {n}." for n in range(8, 0, -1)])
    expect(ui.page.get_by_role("navigation", name="Sidor")).to_have_count(0)
    expect(ui.page.get_by_label("Yrke")).to_have_value("nurse")

    # And a period within it, both ends included.
    ui.page.get_by_label("Från").fill("2025-03-03")
    ui.page.get_by_label("Till").fill("2025-03-05")
    reader.click("Filtrera")
    expect(_notes(ui)).to_contain_text(
        ["Sjuksköterskebesök nummer 5.", "Sjuksköterskebesök nummer 4.", "Sjuksköterskebesök nummer 3."]
    )
    expect(_notes(ui)).to_have_count(3)

    # A period alone, over all professions, keeps its filter from page to page.
    ui.page.get_by_label("Yrke").select_option(label="Alla")
    ui.page.get_by_label("Från").fill("2025-01-01")
    ui.page.get_by_label("Till").fill("2025-03-31")
    reader.click("Filtrera")
    expect(_notes(ui)).to_have_count(25)
    reader.click("Äldre", role="link")
    expect(_notes(ui)).to_have_count(3)
    expect(ui.page.get_by_label("Från")).to_have_value("2025-01-01")
    expect(ui.page.get_by_text(everyones_note["tolvan"])).to_have_count(0)

    # A period with nothing in it says so.
    ui.page.get_by_label("Från").fill("2023-01-01")
    ui.page.get_by_label("Till").fill("2023-12-31")
    reader.click("Filtrera")
    expect(_notes(ui)).to_have_count(0)
    expect(ui.page.get_by_text("Inga anteckningar att visa.")).to_be_visible()


def test_the_patient_chooses_to_see_unsigned_notes_and_to_hide_recent_ones(ui, personas, everyones_note):
    tolvan = personas.tolvan
    unsigned = "Ej signerat: blodtrycket kontrolleras igen."
    recent = "Nyss skrivet: provsvaren ser bra ut."
    note(tolvan, unsigned, dt.date(2025, 4, 1), signed=False)
    note(tolvan, recent, timezone.localdate() - dt.timedelta(days=2), received_days_ago=2)
    reader = _reader(ui, everyones_note, "tolvan")

    ui.login(TOLVAN_ID)
    reader.goto("/record/notes/")
    expect(_notes(ui)).to_have_count(2)
    expect(ui.page.get_by_text(unsigned)).to_have_count(0)
    expect(ui.page.get_by_text(UNSIGNED_WARNING)).to_have_count(0)

    reader.tab("Dina val")
    show_unsigned = ui.page.get_by_label("Visa anteckningar som inte är signerade")
    expect(show_unsigned).not_to_be_checked()
    show_unsigned.check()
    reader.click("Spara val")
    expect(ui.page).to_have_url(re.compile(r"/record/choices/$"))
    expect(_status(ui, "Dina val är sparade.")).to_be_visible()
    expect(ui.page.get_by_label("Visa anteckningar som inte är signerade")).to_be_checked()

    reader.tab("Anteckningar")
    expect(_notes(ui)).to_have_count(3)
    unsigned_card = _notes(ui).filter(has_text=unsigned)
    expect(unsigned_card).to_be_visible()
    expect(unsigned_card.get_by_text(UNSIGNED_WARNING)).to_be_visible()
    # Only the unsigned note carries the warning.
    expect(ui.page.get_by_text(UNSIGNED_WARNING)).to_have_count(1)
    expect(ui.page.get_by_text("inte signerad och visas inte", exact=False)).to_have_count(0)
    expect(ui.page.get_by_text(recent)).to_be_visible()

    reader.tab("Dina val")
    ui.page.get_by_label("Dölj uppgifter från de senaste 14 dagarna").check()
    reader.click("Spara val")
    expect(_status(ui, "Dina val är sparade.")).to_be_visible()
    reader.tab("Anteckningar")
    expect(ui.page.get_by_text(recent)).to_have_count(0)
    expect(ui.page.get_by_text(unsigned)).to_be_visible()
    expect(_notes(ui)).to_have_count(2)
    # Her own choice hides something, and the page says so (issue 16 §12).
    expect(ui.page.get_by_text(HIDDEN_BY_CHOICE)).to_be_visible()
    expect(ui.page.get_by_role("link", name="Ändra dina val")).to_be_visible()


def test_the_patient_sees_diagnoses_contacts_results_and_medicines(ui, personas, everyones_note):
    tolvan = personas.tolvan
    maternity = _unit(UnitKind.MATERNITY_CARE)
    Diagnosis.objects.create(**_item(tolvan), code="J02.9", text="Akut faryngit", recorded_on=dt.date(2025, 2, 3))
    Diagnosis.objects.create(
        **_item(tolvan, maternity), code="O80", text="Förlossningsdiagnos", recorded_on=dt.date(2025, 2, 4)
    )
    CareContact.objects.create(
        **_item(tolvan), kind="Läkarbesök", started_on=dt.date(2025, 2, 3), responsible="Doktor Exempel"
    )
    LabResult.objects.create(
        **_item(tolvan),
        analysis="P-Glukos",
        value=Decimal("7.9"),
        unit_of_measure="mmol/L",
        reference_low=Decimal("4.0"),
        reference_high=Decimal("6.0"),
        flag="H",
        taken_at=timezone.now() - dt.timedelta(days=40),
    )
    Medicine.objects.create(
        **_item(tolvan),
        name="Levaxin",
        strength="50 mikrog",
        dosage="1 tablett på morgonen",
        prescriber="Doktor Exempel",
        dispensed_on=dt.date(2025, 2, 5),
        renewable=True,
    )
    Medicine.objects.create(**_item(personas.other_patient), name="Annans medicin", dispensed_on=dt.date(2025, 2, 5))
    reader = _reader(ui, everyones_note, "tolvan")
    reader.foreign += ["Förlossningsdiagnos", "Annans medicin"]

    ui.login(TOLVAN_ID)
    reader.goto("/record/")
    reader.tab("Diagnoser")
    expect(_heading(ui)).to_have_text("Diagnoser")
    table = ui.page.get_by_role("table", name="Diagnoser")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and Tolvan's one published diagnosis
    expect(table.get_by_role("row").nth(1)).to_contain_text("2025-02-03")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Akut faryngit (J02.9)")
    # The maternity care diagnosis is kept back, and the page says that something is.
    expect(ui.page.get_by_text(WITHHELD)).to_be_visible()

    reader.tab("Vårdkontakter")
    expect(_heading(ui)).to_have_text("Vårdkontakter")
    row = ui.page.get_by_role("table", name="Vårdkontakter").get_by_role("row").nth(1)
    expect(row).to_contain_text("Läkarbesök")
    expect(row).to_contain_text("Doktor Exempel")
    expect(ui.page.get_by_text(WITHHELD)).to_have_count(0)

    reader.tab("Provsvar")
    expect(_heading(ui)).to_have_text("Provsvar")
    row = ui.page.get_by_role("table", name="Provsvar").get_by_role("row").nth(1)
    expect(row).to_contain_text("P-Glukos")
    expect(row).to_contain_text("7,9 mmol/L")  # Swedish decimals
    expect(row).to_contain_text("över referensintervallet")
    expect(row).to_contain_text("4–6 mmol/L")

    reader.tab("Läkemedel")
    expect(_heading(ui)).to_have_text("Läkemedel")
    row = ui.page.get_by_role("table", name="Läkemedel").get_by_role("row").nth(1)
    expect(row).to_contain_text("Levaxin 50 mikrog")
    expect(row).to_contain_text("Kan förnyas")
    expect(row).to_contain_text("1 tablett på morgonen")
    expect(ui.page.get_by_role("table", name="Läkemedel").get_by_role("row")).to_have_count(2)


def test_a_guardian_reads_liams_record_and_is_turned_away_from_sagas(ui, personas, everyones_note):
    anna, liam, saga = personas.guardian, personas.child_9, personas.child_14
    note(liam, "Liam: öroninflammation, penicillin i tio dagar.", dt.date(2025, 5, 2))
    reader = _reader(ui, everyones_note, "anna", "liam")

    ui.login(anna.personnummer)
    chooser = ui.page.get_by_label("Agera för")
    # Saga is 14: a guardian reads a child's record only under 13, so she is not offered at all.
    expect(chooser.locator("option")).to_have_text([f"{anna.full_name} (dig själv)", liam.full_name])
    chooser.select_option(label=liam.full_name)
    reader.click("Byt")
    expect(_acting_banner(ui)).to_contain_text(
        re.compile(rf"Du agerar för:\s*{liam.full_name}\s*\(som vårdnadshavare\)")
    )

    reader.click("Journalen", role="link")
    expect(_heading(ui)).to_have_text(f"Journalen för {liam.full_name}")
    # Choices about what is shown are the person's own: not made for them by a guardian.
    expect(ui.page.get_by_role("button", name="Spara val")).to_have_count(0)
    reader.tab("Anteckningar")
    expect(_notes(ui)).to_contain_text(["Liam: öroninflammation", everyones_note["liam"]])
    expect(_notes(ui)).to_have_count(2)
    expect(_acting_banner(ui)).to_contain_text(liam.full_name)

    # Switching back on the record page keeps her there, now on her own record.
    ui.page.get_by_label("Agera för").select_option(label=f"{anna.full_name} (dig själv)")
    reader.click("Byt")
    expect(ui.page).to_have_url(re.compile(r"/record/notes/$"))
    expect(_notes(ui)).to_have_text([re.compile(re.escape(everyones_note["anna"]))])

    # Had she chosen Saga while Saga was 12, the choice ends when Saga turns 13, and she is told so.
    twelve = dt.date(timezone.localdate().year - 13, timezone.localdate().month, 15) + dt.timedelta(days=40)
    Patient.objects.filter(pk=saga.pk).update(personnummer=demo_data.personnummer(twelve, 262))
    reader.goto("/patient/")
    ui.page.get_by_label("Agera för").select_option(label=saga.full_name)
    reader.click("Byt")
    expect(_heading(ui)).to_have_text(f"Du agerar för {saga.full_name}")
    Patient.objects.filter(pk=saga.pk).update(personnummer=saga.personnummer)  # 14 again
    reader.click("Journalen", role="link")
    expect(_status(ui, "Du kan inte längre agera för den personen. Nu agerar du för dig själv.")).to_be_visible()
    expect(_heading(ui)).to_have_text("Din journal")
    expect(ui.page.get_by_label("Agera för").locator("option")).to_have_count(2)


def test_a_proxy_reads_gunnels_record_and_a_sealed_record_shows_nothing(ui, personas, everyones_note):
    maria, gunnel, sofia = personas.adult_proxy, personas.principal, personas.sealed
    Medicine.objects.create(**_item(gunnel), name="Waran", strength="2,5 mg", dispensed_on=dt.date(2025, 3, 1))
    reader = _reader(ui, everyones_note, "maria", "gunnel")

    ui.login(maria.personnummer)
    ui.page.get_by_label("Agera för").select_option(label=gunnel.full_name)
    reader.click("Byt")
    expect(_acting_banner(ui)).to_contain_text(re.compile(rf"Du agerar för:\s*{gunnel.full_name}\s*\(som ombud\)"))
    reader.click("Journalen", role="link")
    expect(_heading(ui)).to_have_text(f"Journalen för {gunnel.full_name}")
    reader.tab("Anteckningar")
    expect(_notes(ui)).to_have_text([re.compile(re.escape(everyones_note["gunnel"]))])
    reader.tab("Läkemedel")
    expect(ui.page.get_by_role("table", name="Läkemedel")).to_contain_text("Waran 2,5 mg")
    reader.click("Logga ut")

    # Sofia sealed her record: she is told so on every record page, and nothing of it shows.
    reader.foreign = list(everyones_note.values())
    ui.login(sofia.personnummer)
    for path in ("/record/", "/record/notes/", "/record/medicines/"):
        reader.goto(path)
        expect(_heading(ui)).to_have_text("Journalen")
        expect(ui.page.get_by_text("Journalen är förseglad.", exact=False)).to_be_visible()
        expect(_notes(ui)).to_have_count(0)
