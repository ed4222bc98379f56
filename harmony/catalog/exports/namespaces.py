"""The RDF vocabularies and authority-table IRIs the DCAT-AP / HealthDCAT-AP exports use.

Every IRI an export points at is named here once, so that the dataset graph, the catalog graph and
the tests agree, and a change of namespace (HealthDCAT-AP's is still provisional) is one edit.
"""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's closed DCAT namespace lacks DCAT 3 terms (version)
DCATAP = Namespace("http://data.europa.eu/r5r/")
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")  # HealthDCAT-AP Release 5
DPV = Namespace("https://w3id.org/dpv#")
DPV_GDPR = Namespace("https://w3id.org/dpv/dpv-gdpr#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
OBO = Namespace("http://purl.obolibrary.org/obo/")
WIKIDATA = Namespace("http://www.wikidata.org/entity/")

PREFIXES = {
    "adms": ADMS, "dcat": DCAT, "dcatap": DCATAP, "dct": DCTERMS, "dpv": DPV, "dpv-gdpr": DPV_GDPR,
    "eli": ELI, "foaf": FOAF, "healthdcatap": HEALTH, "hydra": HYDRA, "obo": OBO, "odrl": ODRL, "owl": OWL,
    "prov": PROV, "rdf": RDF, "rdfs": RDFS, "skos": SKOS, "vcard": VCARD, "xsd": XSD,
}
JSONLD_CONTEXT = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    return graph


# --- EU Publications Office authority tables (DCAT-AP's controlled vocabularies) --------------

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHT_SCHEME = EU_AUTHORITY + "access-right"
ACCESS_RIGHTS = {  # Harmony's choice -> (code, label)
    "non-public": ("NON_PUBLIC", "Non-public"),
    "restricted": ("RESTRICTED", "Restricted"),
}
DATA_THEME_SCHEME = EU_AUTHORITY + "data-theme"
HEALTH_THEME = (DATA_THEME_SCHEME + "/HEAL", "Health")
DATASET_TYPE_SCHEME = EU_AUTHORITY + "dataset-type"
PERSONAL_DATA = (DATASET_TYPE_SCHEME + "/PERSONAL_DATA", "Personal data")
FILE_TYPE_SCHEME = EU_AUTHORITY + "file-type"
HTML_FILE_TYPE = (FILE_TYPE_SCHEME + "/HTML", "HTML")
AVAILABILITY_SCHEME = EU_AUTHORITY + "planned-availability"
STABLE = (AVAILABILITY_SCHEME + "/STABLE", "Stable")
LANGUAGE_SCHEME = EU_AUTHORITY + "language"
ENGLISH = (LANGUAGE_SCHEME + "/ENG", "English")
COUNTRY_SCHEME = EU_AUTHORITY + "country"
PUBLISHER_TYPE_SCHEME = "http://purl.org/adms/publishertype/1.0"
NON_PROFIT = ("http://purl.org/adms/publishertype/NonProfitOrganisation", "Non-profit organisation")

HEALTH_CATEGORY_SCHEME = "http://healthdata.ec.europa.eu/authority/health-category"  # HealthDCAT-AP

SCHEME_TITLES = {
    ACCESS_RIGHT_SCHEME: "Access right",
    DATA_THEME_SCHEME: "Data theme",
    DATASET_TYPE_SCHEME: "Dataset type",
    FILE_TYPE_SCHEME: "File type",
    AVAILABILITY_SCHEME: "Planned availability",
    LANGUAGE_SCHEME: "Language",
    COUNTRY_SCHEME: "Country",
    PUBLISHER_TYPE_SCHEME: "Publisher type",
    HEALTH_CATEGORY_SCHEME: "Health category",
}

# Legislation HealthDCAT-AP requires on catalogs, datasets and distributions (ELI URIs).
LEGISLATION = {
    "http://data.europa.eu/eli/reg/2016/679/oj": "Regulation (EU) 2016/679 (General Data Protection Regulation)",
    "http://data.europa.eu/eli/reg/2025/327/oj": "Regulation (EU) 2025/327 (European Health Data Space)",
}

# --- HealthDCAT-AP -------------------------------------------------------------------------

# EHDS Art. 51 categories: trials and clinical studies, medical registries, genomic data.
STUDY_TYPE_CATEGORY = {
    "interventional": "CLINICAL_TRIAL",
    "observational": "CLINICAL_TRIAL",
    "biobank": "CLINICAL_TRIAL",
    "registry": "MEDICAL_REG",
}
CATEGORY_LABELS = {
    "CLINICAL_TRIAL": "Data from clinical trials and clinical studies",
    "MEDICAL_REG": "Data from medical registries",
    "GENOMIC": "Human genetic, genomic and other molecular data",
}
GENOMIC_DATA_TYPES = {"ngs", "molecular", "transcriptomics", "cytogenetics"}

# Coding systems as HealthDCAT-AP's examples name them: the Wikidata property of each code system.
CODING_SYSTEMS = {
    "doid": (WIKIDATA.P699, "Human Disease Ontology"),
    "icd10": (WIKIDATA.P494, "ICD-10"),
    "icdo3": (WIKIDATA.P563, "ICD-O-3"),
}
ICD10_BROWSER = "https://icd.who.int/browse10/2019/en#/"

# Standards the data conform to (terms.STANDARDS keys) -> the standard's stable home.
STANDARDS = {
    "omop": "https://ohdsi.github.io/CommonDataModel/",
    "cdisc-sdtm": "https://www.cdisc.org/standards/foundational/sdtm",
    "cdisc-adam": "https://www.cdisc.org/standards/foundational/adam",
    "fhir": "http://hl7.org/fhir/",
    "icd-10": "https://icd.who.int/browse10/2019/en",
    "icd-o-3": "https://www.who.int/standards/classifications/other-classifications/"
               "international-classification-of-diseases-for-oncology",
    "meddra": "https://www.meddra.org/",
    "loinc": "https://loinc.org/",
    "hgvs": "https://hgvs-nomenclature.org/",
    "iscn": "urn:isbn:978-3-318-07331-7",  # ISCN 2024, S. Karger
}
STANDARD_CODING_SYSTEM = {"icd-10": "icd10", "icd-o-3": "icdo3"}

HEALTHDCATAP_RELEASE_5 = "https://healthdataeu.pages.code.europa.eu/healthdcat-ap/releases/release-5/"

# --- registries of trial registrations -----------------------------------------------------

REGISTRY_AGENCY = {
    "nct": "ClinicalTrials.gov",
    "eudract": "EU Clinical Trials Register (EudraCT)",
    "euct": "EU Clinical Trials Information System (CTIS)",
    "isrctn": "ISRCTN registry",
}
REGISTRY_PAGES = {  # where a person reads the registration; "{}" is the identifier
    "nct": "https://clinicaltrials.gov/study/{}",
    "eudract": "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
    "euct": "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={}",
    "isrctn": "https://www.isrctn.com/{}",
}
