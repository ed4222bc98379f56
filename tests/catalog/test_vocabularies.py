"""The vocabulary service: disease terms, their hierarchy and matching, DUO terms, countries.

Pure Python over the shipped data files: no application, no database.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harmony.catalog.vocabularies import (
    countries,
    country,
    diseases,
    duo,
    eu_country_uri,
    normalise,
    spelling_variants,
)
from harmony.catalog.vocabularies.sources import DATA_DIR, load_disease_vocabulary

AML, ALL, CLL, CML = "DOID:9119", "DOID:9952", "DOID:1040", "DOID:8552"
LEUKAEMIA, ACUTE_LEUKAEMIA, LYMPHOMA, ROOT = "DOID:1240", "DOID:12603", "DOID:0060058", "DOID:2531"
DLBCL, MM, MDS, MPN = "DOID:0050745", "DOID:9538", "DOID:0050908", "DOID:2226"
HL, NHL = "DOID:8567", "DOID:0060060"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "ctgov_conditions_sample.txt"


@pytest.fixture(scope="module")
def vocab():
    return diseases()


# -- loading and terms ---------------------------------------------------------------------------


def test_loaders_are_cached_and_complete(vocab):
    assert diseases() is vocab and duo() is duo()
    assert len([t for t in vocab.all() if t.is_doid]) == 119  # plus the WHO codes' own concepts
    assert vocab.roots() == [ROOT]


def test_term_carries_codes_and_cross_references(vocab):
    aml = vocab.get(AML)
    assert aml.label == "acute myeloid leukemia"
    assert "AML" in aml.abbreviations and "acute myeloid leukaemia" in aml.synonyms
    assert aml.icd10 == ("C92.0",) and aml.icdo3 == ("9861/3",)
    assert {"NCI:C3171", "MESH:D015470"} <= set(aml.xrefs)
    assert not any(x.startswith(("ICDO:", "ICD10CM:C92.0")) for x in aml.xrefs)
    assert vocab.get("doid_9119") is aml and vocab.get("DOID:0") is None


def test_icd10_cm_codes_become_who_codes_and_titles_are_known(vocab):
    assert vocab.get(CLL).icd10 == ("C91.1",)  # DOID gives ICD-10-CM C91.10
    assert "ICD10CM:C91.10" in vocab.get(CLL).xrefs
    assert vocab.get(DLBCL).icd10 == ("C83.3",)  # attached from the WHO title
    assert vocab.icd10_title("c92.0") == "Acute myeloblastic leukaemia [AML]"
    assert vocab.icdo3_title("9732/3") == "Multiple myeloma"


def test_misleading_doid_synonyms_are_suppressed(vocab):
    chronic = vocab.get("DOID:1036")
    assert "CLL" not in chronic.abbreviations + chronic.synonyms + chronic.related
    assert "BCL2 Apoptosis regulator" not in vocab.get("DOID:0050873").synonyms
    assert vocab.lookup("CLL") == [CLL]


# -- hierarchy -----------------------------------------------------------------------------------


def test_acute_leukaemia_covers_aml_and_all(vocab):
    acute = vocab.descendants(ACUTE_LEUKAEMIA)
    assert acute[0] == ACUTE_LEUKAEMIA
    assert {AML, ALL, "DOID:0060318", "DOID:0080638"} <= set(acute)
    assert {AML, ALL, CLL, CML} <= set(vocab.descendants(LEUKAEMIA))
    assert CLL not in acute and "DOID:0050751" not in acute  # LGL leukaemia is not acute


def test_ancestors_children_and_depth(vocab):
    assert vocab.ancestors(AML) == [ACUTE_LEUKAEMIA, LEUKAEMIA, ROOT]
    assert AML not in vocab.ancestors(AML)
    assert "DOID:1037" not in vocab.ancestors(AML)  # AML is not lymphoid
    assert vocab.ancestors(DLBCL)[-2:] == [LYMPHOMA, ROOT]
    assert set(vocab.children(ACUTE_LEUKAEMIA)) == {AML, ALL, "DOID:9953", "ICDO3:9835/3"}
    assert vocab.depth(ROOT) == 0 and vocab.depth(AML) == 3
    assert LYMPHOMA not in vocab.ancestors(MM)
    with pytest.raises(KeyError):
        vocab.descendants("DOID:0")


@pytest.mark.parametrize(
    ("term_id", "key"),
    [
        (DLBCL, "lymphoma"),
        (HL, "lymphoma"),
        ("DOID:8691", "lymphoma"),  # mycosis fungoides
        (AML, "leukaemia"),
        ("DOID:0080188", "leukaemia"),  # CMML
        (MM, "plasma_cell"),
        ("DOID:9513", "plasma_cell"),  # plasma cell leukaemia, under mature B-cell neoplasm in DOID
        ("DOID:3721", "plasma_cell"),
        (MDS, "mds"),
        ("DOID:8997", "mpn"),
        ("DOID:4971", "mpn"),
        ("DOID:9254", "mast_cell"),
        ("DOID:0080915", "histiocytic"),
        (ROOT, "other"),
    ],
)
def test_category_is_the_first_facet_level(vocab, term_id, key):
    assert vocab.category(term_id).key == key


def test_every_term_has_a_category(vocab):
    anchors = {a for category in vocab.categories() for a in category.anchors}
    assert anchors <= {term.id for term in vocab.all()}
    assert all(vocab.category(term.id) is not None for term in vocab.all())


# -- lookup --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("AML", AML), ("aml", AML), ("ALL", ALL), ("B-ALL", "DOID:0080638"), ("T-ALL", "DOID:5603"),
        ("CLL", CLL), ("SLL", "DOID:6354"), ("CML", CML), ("APL", "DOID:0060318"), ("MDS", MDS),
        ("MPN", MPN), ("MM", MM), ("DLBCL", DLBCL), ("HL", HL), ("NHL", NHL),
        ("FL", "DOID:0050873"), ("MCL", "DOID:0050746"), ("MZL", "DOID:0050748"),
        ("PTCL", "DOID:0050749"), ("CTCL", "DOID:0081312"), ("PV", "DOID:8997"),
        ("ET", "DOID:2224"), ("PMF", "DOID:4971"), ("MF", "DOID:4971"), ("JMML", "DOID:0050458"),
        ("CMML", "DOID:0080188"), ("Hodgkin's disease", HL), ("plasma cell myeloma", MM),
        ("acute leukaemia", ACUTE_LEUKAEMIA), ("Leukaemia", LEUKAEMIA),
        ("acute myeloid leukaemia", AML), ("Polycythaemia vera", "DOID:8997"),
        ("haematological malignancy", ROOT), ("paediatric acute myeloid leukaemia", "DOID:0070323"),
        ("Waldenström macroglobulinaemia", "DOID:0060901"),
        ("C92.0", AML), ("c92.0", AML), ("ICD-10 C90.0", MM), ("C91.10", CLL),
        ("9861/3", AML), ("M9861/3", AML), ("9732/3", MM), ("DOID:9119", AML),
        ("http://purl.obolibrary.org/obo/DOID_9538", MM), ("MESH:D015470", AML), ("NCI:C3242", MM),
    ],
)
def test_lookup(vocab, text, first):
    assert vocab.lookup(text)[0] == first


def test_lookup_reads_a_table_code_as_one_concept(vocab):
    # a code of the WHO tables reads as the one concept that covers it (the terms under it follow in a search)
    assert vocab.lookup("C92.0") == [AML] and vocab.lookup("9861/3") == [AML]
    assert vocab.lookup("C91.10")[0] == "DOID:1040"  # an ICD-10-CM code outside the tables: every term sharing it


@pytest.mark.parametrize(
    "text", ["", "  ", "all", "et", "breast cancer", "C50.9", "leukemia, adult"]
)
def test_lookup_is_exact(vocab, text):
    assert vocab.lookup(text) == []


# -- match ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acute Myeloid Leukemia, Adult", AML),
        ("Leukemia, Myeloid, Acute", AML),
        ("Leukemia, Nonlymphocytic, Acute", AML),
        ("Refractory AML", AML),
        ("Newly diagnosed AML", AML),
        ("Secondary Acute Myeloid Leukemia", AML),
        ("Adult Acute Myeloid Leukemia in Remission", AML),
        ("Adult Acute Myeloid Leukemia With Del(5q)", AML),
        ("Adult Acute Monocytic Leukemia (M5b)", "ICD10:C93.0"),  # WHO C93.0, under AML
        ("Recurrent Childhood Acute Myeloid Leukemia", "DOID:0070323"),
        ("Adult Acute Myeloblastic Leukemia With Maturation (M2)", "DOID:0081087"),
        ("Adult Acute Myeloid Leukemia With t(8;21)(q22;q22)", "DOID:0081093"),
        ("Adult Acute Promyelocytic Leukemia (M3)", "DOID:0060318"),
        ("Leukemia, Promyelocytic, Acute", "DOID:0060318"),
        ("Precursor Cell Lymphoblastic Leukemia-Lymphoma", ALL),
        ("Acute Lymphoblastic Leukemia (ALL)", ALL),
        ("Acute Lymphoblastic Leukaemia, Paediatric", ALL),
        ("Recurrent Childhood Acute Lymphoblastic Leukemia", "DOID:0080144"),
        ("T-cell Childhood Acute Lymphoblastic Leukemia", "DOID:0080145"),
        ("Philadelphia chromosome positive acute lymphoblastic leukaemia", "DOID:0080643"),
        ("B-cell Chronic Lymphocytic Leukemia", CLL),
        ("Leukemia, Lymphocytic, Chronic, B-Cell", CLL),
        ("Refractory Chronic Lymphocytic Leukemia", CLL),
        ("Stage IV Small Lymphocytic Lymphoma", "DOID:6354"),
        ("Chronic Phase Chronic Myelogenous Leukemia", CML),
        ("Leukemia, Myeloid, Chronic-Phase", CML),
        ("Leukemia, Myelogenous, Chronic, BCR-ABL Positive", "DOID:0081088"),
        ("Leukemia, Myelomonocytic, Juvenile", "DOID:0050458"),
        ("Leukemia, Hairy Cell", "DOID:285"),
        ("Leukemia-Lymphoma, Adult T-Cell", "DOID:0050523"),
        ("Acute Undifferentiated Leukemia", ACUTE_LEUKAEMIA),
        ("Leukemia", LEUKAEMIA),
        ("Leukaemias", LEUKAEMIA),
        ("Myeloid Leukemia", "ICD10:C92"),
        ("Lymphoma, Large B-Cell, Diffuse", DLBCL),
        ("Diffuse Large B-Cell Lymphoma (DLBCL)", DLBCL),
        ("Relapsed or Refractory DLBCL", DLBCL),
        ("Stage IV Adult Diffuse Large Cell Lymphoma", DLBCL),
        ("Lymphoma, B-Cell, Marginal Zone", "DOID:0050748"),
        ("Splenic Marginal Zone Lymphoma", "DOID:0050748"),
        (
            "Extranodal Marginal Zone B-cell Lymphoma of Mucosa-associated Lymphoid Tissue",
            "DOID:0050909",
        ),
        ("Lymphoma, Mantle-Cell", "DOID:0050746"),
        ("Recurrent Grade 2 Follicular Lymphoma", "DOID:0050873"),
        ("Lymphoma, T-Cell, Peripheral", "DOID:0050749"),
        ("Lymphoma, Extranodal NK-T-Cell", "DOID:0080797"),
        ("Stage III Mycosis Fungoides/Sezary Syndrome", "DOID:8691"),
        ("Sezary Syndrome", "DOID:8541"),
        ("Cutaneous T-Cell Lymphoma", "ICD10:C84.8"),
        ("Lymphoma, Small Noncleaved-Cell", "DOID:8584"),
        ("Hodgkin Disease", HL),
        ("Non-Hodgkin's Lymphoma", NHL),
        ("Non-hodgkins Lymphoma", NHL),
        ("Lymphoma, Non-Hodgkin", NHL),
        ("Recurrent/Refractory Childhood Hodgkin Lymphoma", HL),
        ("Small Intestine Lymphoma", LYMPHOMA),
        ("Lymphoma, AIDS-Related", LYMPHOMA),
        ("Waldenström Macroglobulinemia", "DOID:0060901"),
        ("Multiple Myeloma", MM),
        ("Multiple Myeloma and Plasma Cell Neoplasm", MM),
        ("Stage III Multiple Myeloma", MM),
        ("relapsed/refractory multiple myeloma", MM),
        ("Smouldering myeloma", MM),
        ("Neoplasms, Plasma Cell", MM),
        ("Plasmacytoma", "DOID:3721"),
        ("Myelodysplastic Syndromes", MDS),
        ("de Novo Myelodysplastic Syndromes", MDS),
        ("High-risk MDS", MDS),
        ("Preleukemia", MDS),
        ("Anemia, Refractory, with Excess of Blasts", "ICD10:D46.2"),
        ("Refractory Cytopenia With Multilineage Dysplasia", "ICD10:D46.5"),
        ("5q Minus Syndrome", MDS),
        ("Myeloproliferative Disorders", MPN),
        ("Chronic Myeloproliferative Disorders", MPN),
        ("Primary Myelofibrosis", "DOID:4971"),
        ("Myelofibrosis With Myeloid Metaplasia", "DOID:4971"),
        ("Myelodysplastic-Myeloproliferative Diseases", "DOID:0070004"),
        ("Mastocytosis, Systemic", "DOID:3664"),
        ("Histiocytosis, Langerhans-Cell", "ICDO3:9751/3"),
        ("Hematologic Neoplasms", ROOT),
        ("C92.0", AML),
        ("DOID:9538", MM),
    ],
)
def test_match_registry_conditions(vocab, text, expected):
    assert vocab.match(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", "Healthy", "Breast Cancer", "Graft vs Host Disease", "HIV Infections", "Anemia",
        "Leukoencephalopathy, Progressive Multifocal", "Adrenoleukodystrophy", "Leukoplakia",
        "Leukocyte Adhesion Deficiency Syndrome", "Syndrome", "Neoplasms", "Sickle Cell Anemia",
        "Chuvash Polycythemia", "Hematologic Diseases", "all", "Unspecified Adult Solid Tumor",
    ],
)
def test_match_leaves_other_conditions_alone(vocab, text):
    assert vocab.match(text) is None


def test_expand_covers_the_hierarchy(vocab):
    assert {AML, ALL} <= set(vocab.expand("acute leukaemia"))
    assert vocab.expand("breast cancer") == []


def test_coverage_on_real_registry_records(vocab):
    """Every record of the sample whose conditions name a haematologic malignancy gets a term."""
    records = [
        line.split("\t")
        for line in SAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(records) == 150
    unmatched = []
    for nct, conditions, mesh in records:
        texts = [t for t in (conditions.split("|") + mesh.split("|")) if t]
        if not any(vocab.match(text) for text in texts):
            unmatched.append((nct, texts))
    assert 1 - len(unmatched) / len(records) >= 0.95
    malignancy = re.compile(r"(?i)leukemia\b|lymphoma|myeloma|myelodysplastic|myeloproliferative")
    assert [nct for nct, texts in unmatched if any(malignancy.search(t) for t in texts)] == []


# -- suggest and text normalisation --------------------------------------------------------------


def test_suggest_ranks_exact_then_labels(vocab):
    assert vocab.suggest("aml")[0].id == AML
    assert vocab.suggest("leuk")[0].label == "leukemia"
    hodgkin = [s.id for s in vocab.suggest("hodg", limit=3)]
    assert hodgkin[0] == HL and len(hodgkin) == 3  # then its WHO subtypes
    assert vocab.suggest("leukaem")[0].id == LEUKAEMIA  # British spelling while typing
    assert vocab.suggest("myelo", limit=2)[0].matched.lower().startswith("myelo")
    assert vocab.suggest("") == [] and vocab.suggest("zzz") == []


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("leukaemia", "leukemia"), ("haematology", "hematology"), ("haematologic", "hematologic"),
        ("tumour", "tumor"), ("paediatric", "pediatric"), ("oedema", "edema"),
        ("anaemia", "anemia"),
        ("polycythaemia", "polycythemia"), ("follicle centre", "follicle center"),
    ],
)
def test_spelling_variants_go_both_ways(british, american):
    assert normalise(british) == normalise(american) == american
    assert american in spelling_variants(british)
    assert british in spelling_variants(american)


def test_normalise():
    assert normalise("Non-Hodgkin's Lymphomas") == normalise("non hodgkins lymphoma")
    assert normalise("Waldenström's") == "waldenstrom"
    assert normalise("ALL") == "ALL" and normalise("all") == "all"  # a disease, not a word


def test_curated_rows_must_name_terms_in_the_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "abbreviations.csv").open("a", encoding="utf-8") as handle:
        handle.write("DOID:999999999,XYZ,abbreviation,invented\n")
    with pytest.raises(ValueError, match="DOID:999999999"):
        load_disease_vocabulary(data)


# -- DUO -----------------------------------------------------------------------------------------


def test_duo_kinds():
    terms = duo()
    assert {t.shorthand for t in terms.permissions()} == {"GRU", "HMB", "DS", "POA", "NRES"}
    modifiers = {t.shorthand for t in terms.modifiers()}
    assert {"IRB", "PUB", "COL", "TS", "GS", "IS", "NCU", "NPU", "NPUNCU", "RTN", "RS", "MOR",
            "US", "PS", "GSO", "NPOA", "NMDS", "CC"} == modifiers
    assert len(terms.all()) == 23


def test_duo_get_and_shorthand():
    terms = duo()
    gru = terms.get("DUO:0000042")
    assert (gru.shorthand, gru.kind, gru.label) == ("GRU", "permission", "general research use")
    assert terms.by_shorthand("irb").id == "DUO:0000021"
    assert terms.by_shorthand("IRB").kind == "modifier"
    assert terms.get("http://purl.obolibrary.org/obo/DUO_0000007").shorthand == "DS"
    assert gru.uri == "http://purl.obolibrary.org/obo/DUO_0000042"
    assert terms.get("DUO:0000001") is None and terms.by_shorthand("XYZ") is None


# -- countries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "alpha2"),
    [
        ("DE", "DE"), ("de", "DE"), ("DEU", "DE"), ("276", "DE"), ("Germany", "DE"),
        ("United States", "US"), ("USA", "US"), ("United States of America", "US"),
        ("Korea, Republic of", "KR"), ("Republic of Korea", "KR"), ("South Korea", "KR"),
        ("Czechia", "CZ"), ("Czech Republic", "CZ"), ("Russian Federation", "RU"), ("Russia", "RU"),
        ("Turkey", "TR"), ("Türkiye", "TR"), ("United Kingdom", "GB"), ("UK", "GB"),
        ("Côte D'Ivoire", "CI"), ("Iran, Islamic Republic of", "IR"), ("Vietnam", "VN"),
        ("Macedonia, The Former Yugoslav Republic of", "MK"), ("Taiwan", "TW"),
        ("  netherlands ", "NL"),
    ],
)
def test_country_lookup_is_tolerant(text, alpha2):
    assert country(text).alpha2 == alpha2


def test_countries_and_eu_uris():
    assert country("Former Yugoslavia") is None and country("Atlantis") is None
    assert country("") is None
    everything = countries()
    assert len(everything) >= 249 and len({c.alpha2 for c in everything}) == len(everything)
    germany = country("DE")
    assert (germany.alpha3, germany.name) == ("DEU", "Germany")
    assert eu_country_uri("DE") == "http://publications.europa.eu/resource/authority/country/DEU"
    assert eu_country_uri("gb").endswith("/GBR")
    with pytest.raises(ValueError):
        eu_country_uri("XX")
