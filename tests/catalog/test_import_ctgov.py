"""Reading ClinicalTrials.gov records (legacy XML, classic and v2 API JSON) and mapping them to descriptions."""

from datetime import date
from pathlib import Path

import pytest

from harmony.catalog.content import DatasetContent
from harmony.catalog.importers import ctgov, sources
from harmony.catalog.importers import ctgov_mapping as mapping

DATA = Path(__file__).parents[1] / "data" / "ctgov"
AACT = DATA / "aact"
DEFAULTS = mapping.Defaults(mapping.group_contact("Northern Haematology Trials Group", "NHTG"))
FIXTURES = sorted(AACT.glob("xml/*.xml")) + sorted(AACT.glob("json/*.json"))


def read(relative: str) -> ctgov.RegistryRecord:
    (record,) = ctgov.parse((AACT / relative).read_bytes())
    return record


def content(relative: str) -> dict:
    return DatasetContent.model_validate(mapping.to_content(read(relative), DEFAULTS).content).stored()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_parses_into_a_valid_draft(path):
    records = ctgov.parse(path.read_bytes())
    assert len(records) == 1
    record = records[0]
    assert record.shape == ("xml" if path.suffix == ".xml" else
                            "classic-json" if b"FullStudiesResponse" in path.read_bytes()[:200] else "v2-json")
    assert ctgov.NCT_ID.match(record.nct_id)
    stored = DatasetContent.model_validate(mapping.to_content(record, DEFAULTS).content).stored()
    assert stored["registrations"][0] == record.nct_id
    assert stored["contact_point"] and stored["data_use"] == ["DUO:0000006", "DUO:0000021"]
    assert stored["data_types"] == ["clinical", "outcome"] and stored["access_rights"] == "non-public"


def test_the_three_shapes_of_the_same_study_agree():
    xml, classic = content("xml/NCT02028676.xml"), content("json/NCT02028676.json")
    for key in ("title", "acronym", "n_patients", "phases", "population", "age_min", "age_max",
                "recruitment_start", "recruitment_end", "study_type", "keywords"):
        assert xml.get(key) == classic.get(key), key
    assert sorted(xml["countries"]) == sorted(classic["countries"])
    # v2: the same fields land in the same places
    v2 = content("json/NCT02552212.json")
    assert v2["registrations"] == ["NCT02552212", "2015-001894-41"]  # EudraCT from secondaryIdInfos
    assert (v2["phases"], v2["population"], v2["age_min"], v2["n_patients"]) == (["phase-3"], "adult", 18, 317)
    assert v2["recruitment_start"] == "2015-09-01" and "10.1002/art.40866" in v2["publications"]


def test_mapping_of_a_classic_json_record():
    record = content("json/NCT02028676.json")
    assert record["registrations"] == ["NCT02028676", "ISRCTN24791884"]  # domain ISRCTN + bare number
    assert record["age_min"] == 0.25 and record["age_max"] == 17 and record["population"] == "paediatric"
    assert (record["recruitment_start"], record["recruitment_end"]) == ("2007-03-01", "2012-06-01")
    assert record["phases"] == ["phase-4"] and record["study_type"] == "interventional"
    assert record["creators"][0] == {"name": "Diana M Gibb", "affiliation": "Medical Research Council"}
    assert {"name": "Medical Research Council"} in record["creators"]
    assert {"name": "GlaxoSmithKline"} in record["creators"]  # a collaborator
    assert set(record["countries"]) == {"UG", "ZW"}


def test_mapping_of_a_haematology_xml_record():
    record = content("xml/NCT01339988.xml")
    assert record["title"].startswith("Busulfan and Cyclophosphamide")
    assert record["description"].startswith("Official title: Treatment Plan for Hematologic Malignancies")
    assert "\r" not in record["description"] and "  " not in record["description"]
    # "Acute Leukemias", "Myelodysplastic Syndrome", …; the bare MeSH "Leukemia" adds nothing more specific
    assert "DOID:12603" in record["diseases"] and "DOID:0050908" in record["diseases"]
    assert "DOID:1240" not in record["diseases"]
    assert (record.get("age_min"), record["age_max"], record["population"]) == (None, 21, "both")
    assert (record["n_patients"], record["recruitment_start"], record["recruitment_end"]) == (10, "2011-06-01", "2019-06-01")
    assert record["contact_point"] == {"name": "Northern Haematology Trials Group data office", "email": "data@nhtg.example"}
    assert "NCT01339988" in record["provenance"] and "2011-04-21" in record["provenance"]


def test_an_overall_contact_with_an_e_mail_becomes_the_contact_point():
    mapped = mapping.to_content(read("json/NCT06171568.json"), DEFAULTS)
    assert mapped.content["contact_point"] == {"name": "Camille Heslot", "email": "camille.heslot@aphp.fr"}
    assert "contact_point" in mapped.owned


@pytest.mark.parametrize(("text", "years"), [("18 Years", 18), ("6 Months", 0.5), ("2 Weeks", 0.04), ("N/A", None),
                                              (None, None), ("1 Year", 1), ("130 Years", None)])
def test_ages_in_years(text, years):
    assert mapping.years(text) == years


@pytest.mark.parametrize(("low", "high", "population"), [(None, 17, "paediatric"), (18, None, "adult"), (16, 65, "both"),
                                                         (None, None, "both"), (0.5, 18, "both"), (18, 65, "adult")])
def test_ages_to_population(low, high, population):
    assert mapping.population(low, high) == population


def test_phases_study_types_and_dates():
    assert mapping.phases(["Phase 1", "Phase 2"]) == ["phase-1", "phase-2"]
    assert mapping.phases(["PHASE2", "EARLY_PHASE1", "NA"]) == ["phase-2", "early-phase-1", "not-applicable"]
    assert mapping.phases(["N/A", "Not Applicable", "something else"]) == ["not-applicable"]
    assert mapping.registry_date("June 1993") == date(1993, 6, 1)
    assert mapping.registry_date("March 3, 2008") == date(2008, 3, 3)
    assert mapping.registry_date("2006-11") == date(2006, 11, 1)
    assert mapping.registry_date("2014-08-05") == date(2014, 8, 5)
    assert mapping.registry_date("sometime") is None
    registry = ctgov.RegistryRecord("xml", study_type="Observational", patient_registry=True)
    assert mapping.study_type(registry) == "registry"
    assert mapping.study_type(ctgov.RegistryRecord("v2-json", study_type="EXPANDED_ACCESS")) is None


def test_xml_splits_combined_phases():
    xml = (AACT / "xml/NCT01339988.xml").read_bytes().replace(b"<phase>Phase 4</phase>", b"<phase>Phase 1/Phase 2</phase>")
    (record,) = ctgov.parse(xml)
    assert mapping.to_content(record, DEFAULTS).content["phases"] == ["phase-1", "phase-2"]


def test_registrations_dois_and_names():
    record = ctgov.RegistryRecord("xml", nct_id="NCT00000001", org_study_id="EudraCT number 2005-004243-65",
                                  secondary_ids=[("EUDRACT-58585610", ""), ("ISRCTN58585610", ""),
                                                 ("2022-500123-45-00", ""), ("CDR0000063440", "")])
    assert mapping.registrations(record) == ["NCT00000001", "2005-004243-65", "ISRCTN58585610", "2022-500123-45-00"]
    citations = ["Blood. 2003;101(4):1-9. doi: 10.1182/blood-2002-08-2510.", "https://doi.org/10.1056/NEJMoa1",
                 "no identifier here", "doi: 10.1182/blood-2002-08-2510"]
    assert mapping.dois(citations) == ["10.1182/blood-2002-08-2510", "10.1056/NEJMoa1"]
    assert mapping.person_name("Nicolas Novitzky, MD, PhD") == "Nicolas Novitzky"
    assert mapping.person_name("Smith, John") == "Smith, John"


def test_identifiers_are_checked():
    mismatch = ctgov.parse((AACT / "json/NCT02278341.json").read_bytes())[0]
    problem, _note = ctgov.check_ids(mismatch, "NCT02278341.json")
    assert problem == "identifier mismatch: the file is named NCT02278341 but holds the record NCT02552212"
    alias = read("xml/NCT00980226-id-mismatch.xml")
    assert ctgov.check_ids(alias, "NCT00980226-id-mismatch.xml") == (
        None, "NCT00980226 (the file name) is an alias of NCT00081588; imported as NCT00081588")
    inside = (AACT / "xml/NCT01339988.xml").read_bytes().replace(b"show/NCT01339988", b"show/NCT09999999")
    assert "inside the file" in ctgov.check_ids(ctgov.parse(inside)[0])[0]
    classic = (AACT / "json/NCT00023673.json").read_bytes().replace(b"AREA[NCTId]NCT00023673", b"AREA[NCTId]NCT00000002")
    assert "the response's query names NCT00000002" in ctgov.check_ids(ctgov.parse(classic)[0])[0]
    assert ctgov.check_ids(ctgov.RegistryRecord("xml"))[0] == "the record has no NCT id"
    assert "not an NCT id" in ctgov.check_ids(ctgov.RegistryRecord("xml", nct_id="NCT123"))[0]


BILLION_LAUGHS = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><clinical_study>&b;</clinical_study>'


@pytest.mark.parametrize("data", [b"<clinical_study><id_info>", b"<html><body/></html>", b"{\"studies\": 3", b"plain text",
                                  b'{"something": "else"}', BILLION_LAUGHS])
def test_what_is_not_a_record_is_refused(data):
    with pytest.raises(ctgov.ParseError):
        ctgov.parse(data)


def test_files_with_several_studies():
    v2 = (AACT / "json/NCT02552212.json").read_text()
    records = ctgov.parse(f'{{"studies": [{v2}, {v2}]}}'.encode())
    assert [r.nct_id for r in records] == ["NCT02552212", "NCT02552212"]
    assert len(ctgov.parse(f"[{v2}]".encode())) == 1


def test_most_haematology_records_get_a_disease_term():
    records = [r for source in sources.iter_files([DATA / "hematology-750-ctgov-xml.tar.gz"])
               for r in ctgov.parse(source.data)]
    with_disease = [r for r in records if mapping.disease_terms(r.conditions + r.mesh_terms)]
    assert len(records) == 750
    assert len(with_disease) >= 720
