"""schema.org Dataset JSON-LD and FAIR Signposting links of a landing page (no database needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from harmony.catalog.exports.schemaorg import dataset_jsonld
from harmony.catalog.exports.signposting import link_header
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from tests import factories

BASE = "https://harmony.example"
GROUP = StudyGroup(id=1, name="HOVON study group", acronym="HOVON", ror="03yrm5c26")


def described(**overrides):
    dataset = Dataset(id=7, pid="HM-000007", group_id=1, state="published", published_version=2)
    version = DatasetVersion(dataset_id=7, version=2, content=factories.content(**overrides).stored(),
                             issued_at=datetime(2026, 2, 3, 10, 0, tzinfo=UTC))
    return dataset, version


def test_the_dataset_json_ld_carries_what_dataset_search_reads():
    dataset, version = described(publications=["10.1182/blood.2020005000"], data_use=["GRU", "IRB"])
    found = dataset_jsonld(dataset, version, GROUP, BASE, issued=datetime(2025, 1, 2, tzinfo=UTC))
    json.dumps(found)  # goes into a script element as is
    assert found["@context"] == "https://schema.org" and found["@type"] == "Dataset"
    url = f"{BASE}/datasets/HM-000007"
    assert found["url"] == url and found["identifier"][0] == url
    assert {"@type": "PropertyValue", "propertyID": "ClinicalTrials.gov", "value": "NCT01234567",
            "url": "https://clinicaltrials.gov/study/NCT01234567"} in found["identifier"]
    assert found["creator"] == [{"@type": "Person", "name": "Gert Ossenkoppele",
                                 "sameAs": "https://orcid.org/0000-0002-1825-0097"}]
    assert found["publisher"]["name"] == "HOVON study group"
    assert found["publisher"]["sameAs"] == "https://ror.org/03yrm5c26"
    assert found["isAccessibleForFree"] is False
    assert "General research use" in found["conditionsOfAccess"]
    assert "Ethics approval required" in found["conditionsOfAccess"]
    assert found["temporalCoverage"] == "2014-01-01/2019-06-30"
    assert found["spatialCoverage"] == [{"@type": "Place", "name": "Netherlands"}, {"@type": "Place", "name": "Belgium"}]
    assert "Cytogenetics" in found["variableMeasured"]
    assert found["version"] == "2" and found["dateModified"] == "2026-02-03"
    assert found["datePublished"] == "2025-01-02"
    assert found["citation"] == ["https://doi.org/10.1182/blood.2020005000"]
    assert "AML" in found["keywords"] and "acute myeloid leukemia" in found["keywords"]
    assert found["sdLicense"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert found["about"][0]["termCode"] == "DOID:9119"


def test_a_short_description_is_padded_and_a_long_one_cut():
    dataset, version = described(description="AML data.")
    short = dataset_jsonld(dataset, version, GROUP, BASE)["description"]
    assert len(short) >= 50 and short.startswith("HOVON 132 AML") and "acute myeloid leukemia" in short
    dataset, version = described(description="word " * 3000)
    assert len(dataset_jsonld(dataset, version, GROUP, BASE)["description"]) <= 5000


def test_a_disease_specific_condition_names_its_disease():
    dataset, version = described(data_use=["DS"], data_use_diseases=["AML"])
    conditions = dataset_jsonld(dataset, version, GROUP, BASE)["conditionsOfAccess"]
    assert "Disease specific research (acute myeloid leukemia)" in conditions


def test_empty_fields_are_left_out():
    dataset, version = described(creators=[], countries=[], recruitment_start=None, recruitment_end="2020-01-01",
                                 publications=[], data_types=[])
    found = dataset_jsonld(dataset, version, GROUP, BASE)
    assert not {"creator", "spatialCoverage", "citation", "variableMeasured"} & set(found)
    assert found["temporalCoverage"] == "../2020-01-01"


def test_signposting_links():
    dataset, version = described(creators=[{"name": "A", "orcid": "0000-0002-1825-0097"}, {"name": "B"}])
    header = link_header(dataset, version, BASE)
    url = f"{BASE}/datasets/HM-000007"
    for link in (f'<{url}>; rel="cite-as"',
                 f'<{url}.ttl>; rel="describedby"; type="text/turtle"',
                 f'<{url}.jsonld>; rel="describedby"; type="application/ld+json"',
                 f'<{url}.rdf>; rel="describedby"; type="application/rdf+xml"',
                 '<https://schema.org/Dataset>; rel="type"',
                 '<https://schema.org/AboutPage>; rel="type"',
                 '<https://creativecommons.org/publicdomain/zero/1.0/>; rel="license"',
                 '<https://orcid.org/0000-0002-1825-0097>; rel="author"'):
        assert link in header
    assert header.count('rel="author"') == 1
