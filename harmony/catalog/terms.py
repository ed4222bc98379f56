"""Short controlled lists used by dataset descriptions (the long vocabularies live in vocabularies/)."""

from __future__ import annotations

POPULATIONS = {"paediatric": "Paediatric", "adult": "Adult", "both": "Paediatric and adult"}

STUDY_TYPES = {
    "interventional": "Interventional trial",
    "observational": "Observational study",
    "registry": "Registry",
    "biobank": "Biobank cohort",
}

PHASES = {
    "early-phase-1": "Early phase 1",
    "phase-1": "Phase 1",
    "phase-2": "Phase 2",
    "phase-3": "Phase 3",
    "phase-4": "Phase 4",
    "not-applicable": "Not applicable",
}

DATA_TYPES = {
    "clinical": "Clinical data",
    "outcome": "Outcome and survival",
    "treatment": "Treatment and response",
    "adverse-events": "Adverse events",
    "laboratory": "Laboratory values",
    "cytogenetics": "Cytogenetics",
    "molecular": "Molecular markers (targeted)",
    "ngs": "Next-generation sequencing",
    "transcriptomics": "Transcriptomics",
    "flow-cytometry": "Flow cytometry / MRD",
    "imaging": "Imaging",
    "quality-of-life": "Quality of life",
    "biosamples": "Biosamples available",
}

STANDARDS = {
    "omop": "OMOP CDM",
    "cdisc-sdtm": "CDISC SDTM",
    "cdisc-adam": "CDISC ADaM",
    "fhir": "HL7 FHIR",
    "icd-10": "ICD-10",
    "icd-o-3": "ICD-O-3",
    "meddra": "MedDRA",
    "loinc": "LOINC",
    "hgvs": "HGVS",
    "iscn": "ISCN",
}

ACCESS_RIGHTS = {"non-public": "Non-public", "restricted": "Restricted"}

# GDPR legal bases, as DPV (Data Privacy Vocabulary) GDPR terms.
LEGAL_BASES = {
    "A6-1-a": "Consent (GDPR Art. 6(1)(a))",
    "A6-1-e": "Public interest (GDPR Art. 6(1)(e))",
    "A6-1-f": "Legitimate interest (GDPR Art. 6(1)(f))",
    "A9-2-a": "Explicit consent (GDPR Art. 9(2)(a))",
    "A9-2-j": "Scientific research (GDPR Art. 9(2)(j))",
}

# Purposes of the original processing, as DPV purposes.
PURPOSES = {
    "AcademicResearch": "Academic research",
    "ScientificResearch": "Scientific research",
    "ResearchAndDevelopment": "Research and development",
    "ServiceProvision": "Health care provision",
}

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
LICENCES = {CC0: "CC0 1.0", "https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0"}
