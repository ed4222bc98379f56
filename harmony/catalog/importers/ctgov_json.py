"""The two JSON shapes of ClinicalTrials.gov's API, read into `RegistryRecord`.

Classic (API 1, until 2024): `FullStudiesResponse.FullStudies[].Study.ProtocolSection`, CamelCase
names, every list wrapped ("ConditionList": {"Condition": [...]}). Current (API 2):
`protocolSection`, camelCase names, plain lists; a file may hold one study, `{"studies": [...]}`
or a list of studies. Both read the same modules into the same fields.
"""

from __future__ import annotations

from typing import Any

from harmony.catalog.importers.ctgov import NCT_IN_TEXT, ParseError, RegistryPerson, RegistryRecord


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _list(node: Any, *path: str) -> list[Any]:
    value = _get(node, *path)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def parse_json(document: Any) -> list[RegistryRecord]:
    if isinstance(document, list):
        return [record for item in document for record in parse_json(item)]
    if not isinstance(document, dict):
        raise ParseError("JSON, but not a ClinicalTrials.gov study")
    if "FullStudiesResponse" in document:
        response = document["FullStudiesResponse"]
        studies = _list(response, "FullStudies")
        records = [_classic_study(_get(item, "Study") or {}) for item in studies]
        expression = _str(_get(response, "Expression")) or ""
        if len(records) == 1 and (named := NCT_IN_TEXT.findall(expression)):
            records[0].named_ids += [("the response's query", nct) for nct in named]
        return records
    if "FullStudy" in document:
        return [_classic_study(_get(document, "FullStudy", "Study") or {})]
    if "Study" in document and "ProtocolSection" in (document.get("Study") or {}):
        return [_classic_study(document["Study"])]
    if "studies" in document and isinstance(document["studies"], list):
        return [_v2_study(item) for item in document["studies"]]
    if "protocolSection" in document:
        return [_v2_study(document)]
    raise ParseError("JSON, but neither a classic (FullStudiesResponse) nor a v2 (protocolSection) study")


def _classic_study(study: dict[str, Any]) -> RegistryRecord:
    protocol = study.get("ProtocolSection") or {}
    ident = protocol.get("IdentificationModule") or {}
    status = protocol.get("StatusModule") or {}
    sponsors = protocol.get("SponsorCollaboratorsModule") or {}
    design = protocol.get("DesignModule") or {}
    eligibility = protocol.get("EligibilityModule") or {}
    places = protocol.get("ContactsLocationsModule") or {}
    record = RegistryRecord("classic-json", nct_id=_str(ident.get("NCTId")),
                            aliases=[a for a in map(_str, _list(ident, "NCTIdAliasList", "NCTIdAlias")) if a])
    record.org_study_id = _str(_get(ident, "OrgStudyIdInfo", "OrgStudyId"))
    record.secondary_ids = [(value, " ".join(filter(None, [_str(s.get("SecondaryIdType")), _str(s.get("SecondaryIdDomain"))])))
                            for s in _list(ident, "SecondaryIdInfoList", "SecondaryIdInfo")
                            if isinstance(s, dict) and (value := _str(s.get("SecondaryId")))]
    record.brief_title = _str(ident.get("BriefTitle"))
    record.official_title = _str(ident.get("OfficialTitle"))
    record.acronym = _str(ident.get("Acronym"))
    record.brief_summary = _str(_get(protocol, "DescriptionModule", "BriefSummary"))
    record.detailed_description = _str(_get(protocol, "DescriptionModule", "DetailedDescription"))
    record.keywords = [k for k in map(_str, _list(protocol, "ConditionsModule", "KeywordList", "Keyword")) if k]
    record.conditions = [c for c in map(_str, _list(protocol, "ConditionsModule", "ConditionList", "Condition")) if c]
    record.mesh_terms = [t for m in _list(study, "DerivedSection", "ConditionBrowseModule", "ConditionMeshList", "ConditionMesh")
                         if (t := _str(_get(m, "ConditionMeshTerm")))]
    record.enrollment = _str(_get(design, "EnrollmentInfo", "EnrollmentCount"))
    record.minimum_age = _str(eligibility.get("MinimumAge"))
    record.maximum_age = _str(eligibility.get("MaximumAge"))
    record.countries = [c for loc in _list(places, "LocationList", "Location") if (c := _str(_get(loc, "LocationCountry")))]
    record.phases = [p for p in map(_str, _list(design, "PhaseList", "Phase")) if p]
    record.study_type = _str(design.get("StudyType"))
    record.patient_registry = (_str(design.get("PatientRegistry")) or "").lower() == "yes"
    record.start_date = _str(_get(status, "StartDateStruct", "StartDate"))
    record.completion_date = _str(_get(status, "CompletionDateStruct", "CompletionDate"))
    record.primary_completion_date = _str(_get(status, "PrimaryCompletionDateStruct", "PrimaryCompletionDate"))
    record.last_update = (_str(_get(status, "LastUpdatePostDateStruct", "LastUpdatePostDate"))
                          or _str(status.get("LastUpdateSubmitDate")))
    record.sponsor = _str(_get(sponsors, "LeadSponsor", "LeadSponsorName"))
    record.collaborators = [n for c in _list(sponsors, "CollaboratorList", "Collaborator")
                            if (n := _str(_get(c, "CollaboratorName")))]
    record.officials = [RegistryPerson(n, _str(_get(o, "OverallOfficialAffiliation")))
                        for o in _list(places, "OverallOfficialList", "OverallOfficial")
                        if (n := _str(_get(o, "OverallOfficialName")))]
    record.contacts = [RegistryPerson(n, None, _str(_get(c, "CentralContactEMail")))
                       for c in _list(places, "CentralContactList", "CentralContact")
                       if (n := _str(_get(c, "CentralContactName")))]
    record.references = [(_str(_get(r, "ReferencePMID")), citation)
                         for r in _list(protocol, "ReferencesModule", "ReferenceList", "Reference")
                         if (citation := _str(_get(r, "ReferenceCitation")))]
    return record


def _v2_study(study: dict[str, Any]) -> RegistryRecord:
    protocol = study.get("protocolSection") or {}
    ident = protocol.get("identificationModule") or {}
    status = protocol.get("statusModule") or {}
    sponsors = protocol.get("sponsorCollaboratorsModule") or {}
    design = protocol.get("designModule") or {}
    eligibility = protocol.get("eligibilityModule") or {}
    places = protocol.get("contactsLocationsModule") or {}
    record = RegistryRecord("v2-json", nct_id=_str(ident.get("nctId")),
                            aliases=[a for a in map(_str, _list(ident, "nctIdAliases")) if a])
    record.org_study_id = _str(_get(ident, "orgStudyIdInfo", "id"))
    record.secondary_ids = [(value, " ".join(filter(None, [_str(s.get("type")), _str(s.get("domain"))])))
                            for s in _list(ident, "secondaryIdInfos") if isinstance(s, dict) and (value := _str(s.get("id")))]
    record.brief_title = _str(ident.get("briefTitle"))
    record.official_title = _str(ident.get("officialTitle"))
    record.acronym = _str(ident.get("acronym"))
    record.brief_summary = _str(_get(protocol, "descriptionModule", "briefSummary"))
    record.detailed_description = _str(_get(protocol, "descriptionModule", "detailedDescription"))
    record.keywords = [k for k in map(_str, _list(protocol, "conditionsModule", "keywords")) if k]
    record.conditions = [c for c in map(_str, _list(protocol, "conditionsModule", "conditions")) if c]
    record.mesh_terms = [t for m in _list(study, "derivedSection", "conditionBrowseModule", "meshes")
                         if (t := _str(_get(m, "term")))]
    record.enrollment = _str(_get(design, "enrollmentInfo", "count"))
    record.minimum_age = _str(eligibility.get("minimumAge"))
    record.maximum_age = _str(eligibility.get("maximumAge"))
    record.countries = [c for loc in _list(places, "locations") if (c := _str(_get(loc, "country")))]
    record.phases = [p for p in map(_str, _list(design, "phases")) if p]
    record.study_type = _str(design.get("studyType"))
    record.patient_registry = design.get("patientRegistry") is True
    record.start_date = _str(_get(status, "startDateStruct", "date"))
    record.completion_date = _str(_get(status, "completionDateStruct", "date"))
    record.primary_completion_date = _str(_get(status, "primaryCompletionDateStruct", "date"))
    record.last_update = _str(_get(status, "lastUpdatePostDateStruct", "date")) or _str(status.get("lastUpdateSubmitDate"))
    record.sponsor = _str(_get(sponsors, "leadSponsor", "name"))
    record.collaborators = [n for c in _list(sponsors, "collaborators") if (n := _str(_get(c, "name")))]
    record.officials = [RegistryPerson(n, _str(_get(o, "affiliation"))) for o in _list(places, "overallOfficials")
                        if (n := _str(_get(o, "name")))]
    record.contacts = [RegistryPerson(n, None, _str(_get(c, "email"))) for c in _list(places, "centralContacts")
                       if (n := _str(_get(c, "name")))]
    record.references = [(_str(_get(r, "pmid")), citation) for r in _list(protocol, "referencesModule", "references")
                         if (citation := _str(_get(r, "citation")))]
    return record
