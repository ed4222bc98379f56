"""The demo's data access committees and proposals, so that whoever signs in finds something to do.

Each demo study group gets its own committee (members and chairs from the personas, a data access
agreement) and a handful of proposals walk the workflow as their personas would: a draft, one
waiting for screening, one returned for revision, one under review by both committees and one
decided. Everything goes through the services, so the audit trails, notices and outbox are real.

The proposals are backdated (the clock is set back while each step runs) so that their timelines
and the reviews' deadlines read like a few weeks of work. Their datasets are picked from the demo
catalog by topic among those whose data-use conditions fit the stated purpose, and whatever the
chosen datasets demand (declarations, ethics approval PDF, a shorter duration) is provided.

Loading again changes nothing: committees are found by name, role grants are granted once, groups
that already have a committee keep it, and a demo proposal whose applicant already has one with
its title is left as it is (also one that a service refused half-way, which the load reports).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import actions, attachments, committees, proposals, workflow
from harmony.access_requests.content import (
    COL,
    ETHICS_APPROVAL,
    IRB,
    NPUNCU,
    PUB,
    TIME_LIMIT_MONTHS,
    TS,
    ProposalContent,
    dataset_objections,
    requirements,
)
from harmony.access_requests.models import Committee, Proposal, Review
from harmony.accounts import services as accounts
from harmony.accounts.permissions import Principal
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.models import PUBLISHED, Dataset, StudyGroup
from harmony.catalog.vocabularies import diseases
from harmony.demo.catalog import DEMO_GROUPS
from harmony.demo.personas import PERSONAS
from harmony.errors import HarmonyError, NotFound

# --- committees -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCommittee:
    """The committee of the demo study group with the same position in DEMO_GROUPS; its people are the
    personas scoped "committee:<position + 1>"."""

    name: str
    rule: str
    quorum: float
    voting_days: int


DEMO_COMMITTEES = [
    DemoCommittee("NHTG Data Access Committee", "majority", 2, 14),
    DemoCommittee("EPLN Data Access Committee", "any-reject-blocks", 2, 21),
]

AGREEMENT = "\n\n".join((  # one paragraph a line, so that a page can wrap it as it likes
    "Data access agreement of the {committee}",
    "This agreement is made between the {group} ({acronym}) and the applicant, the co-applicants and their "
    "institution (\"the recipient\") for the data released under an approved proposal.",
    "1. Purpose. The recipient uses the data only for the research described in the approved proposal and only "
    "for its approved duration. Any other question, any further use and any sharing with others needs a new or "
    "amended proposal approved by the committee.",
    "2. No re-identification. The recipient makes no attempt to identify or contact any patient, relative or "
    "treating physician, and links the data to other sources only as the approved proposal describes. Anyone who "
    "comes to recognise a person stops, tells the {acronym} data office and keeps it to themselves.",
    "3. Security. The data stay in the secure environment named in the proposal's data security plan, are reached "
    "only by the people named in the proposal, are never copied to personal devices or e-mail, and any suspected "
    "breach is reported to the {acronym} data office within 72 hours.",
    "4. Publication. Results are published in aggregate form only, with no table cell describing fewer than five "
    "patients. Every publication acknowledges the {group}, the trials whose data it used and the patients who took "
    "part in them, and a copy goes to the data office when it is submitted.",
    "5. Deletion. When the approved duration ends, or earlier when the work is done, the recipient deletes the data "
    "and every copy, and confirms the deletion in writing to the data office. Aggregate results may be kept.",
    "The committee may end access at once if these terms are broken. (The {acronym} and its committee are "
    "fictional: they belong to the Harmony demo.)",
))


def _agreement(committee: DemoCommittee, group: catalog.GroupInput) -> str:
    return AGREEMENT.format(committee=committee.name, group=group.name, acronym=group.acronym)


def _issuer() -> str:
    return current_app.config["DEV_IDP_URL"].rstrip("/")


def load_committees() -> tuple[list[Committee], list[str]]:
    """Create the demo committees (when missing), grant their roles and let each govern its group
    (when the group has no committee yet). Returns the committees and a line about each."""
    issuer = _issuer()
    found, lines = [], []
    for position, (spec, group_input) in enumerate(zip(DEMO_COMMITTEES, DEMO_GROUPS, strict=True), start=1):
        try:
            committee = committees.committee_by_name(spec.name)
            made = "present"
        except NotFound:
            committee = committees.create_committee(COMMAND_LINE, committees.CommitteeInput(
                name=spec.name, rule=spec.rule, quorum=spec.quorum, voting_days=spec.voting_days,
                agreement=_agreement(spec, group_input)))
            made = "created"
        group = catalog.group_by_acronym(group_input.acronym)
        if group.committee_id is None:
            committees.govern(COMMAND_LINE, committee.id, group.id)
        for persona in PERSONAS:
            if persona.scope != f"committee:{position}":
                continue
            user = accounts.find_user(persona.subject, issuer)
            accounts.grant_role(COMMAND_LINE, accounts.RoleGrantInput(user_id=user.id, role=persona.role,
                                                                      scope_id=committee.id), source="demo")
        roster = committees.members(committee.id)
        chairs = ", ".join(m.user.display_name for m in roster if m.chair) or "none"
        people = ", ".join(m.user.display_name for m in roster if not m.chair) or "none"
        governs = ", ".join(g.acronym for g in committees.governed_groups(committee.id)) or "no study group"
        lines.append(f"{committee.name} ({made}): governs {governs}; {committee.rule}, quorum "
                     f"{committees.quorum_label(committee.quorum)}, {committee.voting_days} days to vote; "
                     f"chair {chairs}; members {people}")
        found.append(committee)
    return found, lines


# --- proposals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One action of a persona, `days` days before the load. `committee` (1 or 2) makes it an action on
    the review by the committee that governs that demo study group; action "edit" changes the form's `fields`,
    other actions take `fields` as more of their input (a final report's publications); "system" is
    `harmony requests tick`."""

    days: float
    who: str
    action: str
    committee: int | None = None
    vote: str | None = None
    comment: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wanted:
    """How many datasets of demo group `group` (1 or 2), preferring the disease `disease` (a DOID and
    the diseases under it), a word in the title and a population."""

    group: int
    count: int
    disease: str
    words: tuple[str, ...] = ()
    population: str | None = None


@dataclass(frozen=True)
class DemoProposal:
    applicant: str
    days: float  # created this many days before the load
    content: dict[str, Any]  # the form as the applicant fills it (title included)
    wanted: tuple[Wanted, ...]
    complete: bool = True  # False: a draft, partly filled, that asks nothing the datasets demand yet
    road: tuple[Step, ...] = ()
    ethics_reference: str = ""  # "{year}" becomes the year of the approval

    @property
    def title(self) -> str:
        return self.content["title"]


ALL, AML, ACUTE, HODGKIN, MYELOMA = "DOID:9952", "DOID:9119", "DOID:12603", "DOID:8567", "DOID:9538"
ALICE_INSTITUTION = "Department of Haematology, Northbridge University Hospital"
BRUNO_INSTITUTION = "Clinical Trials Unit, Institute of Paediatric Oncology, Vellmar"
SECURE = ("The pseudonymised data are analysed only inside the hospital's secure research environment "
          "(ISO 27001 certified; two-factor sign-in; no download, no internet access). Only the named "
          "applicants have accounts on the project workspace; outputs leave it only after a check by the "
          "data manager that no cell describes fewer than five patients.")

DEMO_PROPOSALS = [
    DemoProposal(
        applicant="alice", days=58, ethics_reference="METC {year}-117",
        content={
            "title": "Hodgkin lymphoma in adolescents and young adults compared with older adults: pooled outcomes",
            "lay_summary": "Teenagers and young adults with Hodgkin lymphoma are treated in children's trials in some "
                           "countries and in adults' trials in others. We want to compare how they fare, to learn "
                           "which approach cures more of them with fewer late effects.",
            "abstract": "Adolescents and young adults (AYA, 15-39 years) with classical Hodgkin lymphoma receive "
                        "paediatric or adult protocols depending on where they are treated. Using individual patient "
                        "data from paediatric and adult trials, we will compare progression-free and overall "
                        "survival and treatment-related toxicity of AYA patients by protocol type, adjusted for "
                        "stage, risk factors and period of treatment.",
            "objectives": "1. Compare 5-year progression-free survival of AYA patients treated on paediatric versus "
                          "adult protocols. 2. Compare overall survival, early toxicity (grade 3-4) and the use of "
                          "radiotherapy. 3. Describe outcomes of patients 40 years and older as a reference.",
            "methods": "Individual patient data meta-analysis. Cox proportional hazards models stratified by trial, "
                       "adjusted for stage, B symptoms, bulky disease and ESR; propensity score weighting as a "
                       "sensitivity analysis. Missing covariates by multiple imputation (20 imputations).",
            "purpose": {"code": "DS", "disease": HODGKIN},
            "duration_months": 24,
            "institution": ALICE_INSTITUTION,
            "funding": "Northbridge Cancer Foundation, project grant NCF-2024-031.",
            "conflicts_of_interest": "None.",
            "data_security_plan": SECURE,
            "publication_plan": "One paper in a peer-reviewed haematology journal and a presentation at the "
                                "International Symposium on Hodgkin Lymphoma; results also shared with the study "
                                "groups before submission.",
            "collaborator": "The lymphoma working parties of both study groups (the statisticians of their data "
                            "offices review the analysis plan).",
        },
        wanted=(Wanted(1, 1, HODGKIN, ("hodgkin",)), Wanted(2, 1, HODGKIN, ("hodgkin",), "both")),
        road=(
            Step(57, "alice", "submit"),
            Step(55, "olga", "send-to-review"),
            Step(51, "dave", "vote", committee=1, vote="approve",
                 comment="A clear question that matters to patients; the request is proportionate."),
            Step(49, "erin", "vote", committee=1, vote="approve-with-conditions",
                 comment="Report the 15-17 year olds separately, and publish no cell with fewer than five patients."),
            Step(47, "fay", "vote", committee=1, vote="approve"),
            Step(46, "gus", "vote", committee=2, vote="approve",
                 comment="Scientifically sound."),
            Step(45, "chris", "decide", committee=1,
                 comment="Approved. The analysis plan is sound and the datasets fit the stated purpose. Please "
                         "follow the condition raised in the vote: adolescents of 15-17 years are reported "
                         "separately and no published cell describes fewer than five patients."),
            Step(44, "hana", "vote", committee=2, vote="reject",
                 comment="Our paediatric consent covers research on childhood cancers, not a comparison with "
                         "adult cohorts held outside the network."),
            Step(42, "ivy", "decide", committee=2,
                 comment="Rejected. The consent given in the network's paediatric trials does not cover pooling "
                         "with adult cohorts outside the network. The committee would welcome a proposal limited "
                         "to the patients treated on EPLN protocols, analysed inside the network's own data office."),
        ),
    ),
    DemoProposal(
        applicant="alice", days=13, ethics_reference="METC {year}-042",
        content={
            "title": "Relapse after allogeneic stem cell transplantation in acute leukaemia: a pooled analysis",
            "lay_summary": "Some patients with acute leukaemia relapse after a stem cell transplant from a donor. "
                           "By looking at many trials together we want to find who is most at risk, so that these "
                           "patients can be watched more closely or offered preventive treatment.",
            "abstract": "Relapse remains the main cause of treatment failure after allogeneic haematopoietic stem "
                        "cell transplantation (allo-HSCT) for acute leukaemia. We will pool individual patient data "
                        "from transplant and chemotherapy trials of both study groups to model the cumulative "
                        "incidence of relapse by disease risk, minimal residual disease before transplant, "
                        "conditioning intensity and donor type.",
            "objectives": "1. Estimate the cumulative incidence of relapse at 2 years after allo-HSCT. 2. Identify "
                          "pre-transplant factors associated with relapse (MRD status, cytogenetic risk, "
                          "conditioning, donor type, age). 3. Describe survival after relapse.",
            "methods": "Competing-risks regression (Fine and Gray) with non-relapse mortality as competing event, "
                       "stratified by trial; sensitivity analysis with cause-specific Cox models. Multiple "
                       "imputation for missing MRD status. Planned sample: about 1,500 transplanted patients.",
            "purpose": {"code": "HMB"},
            "duration_months": 24,
            "institution": ALICE_INSTITUTION,
            "funding": "Dutch Society of Haematology research fellowship (2025-2027).",
            "conflicts_of_interest": "The applicant has received speaker fees from a manufacturer of a "
                                     "post-transplant maintenance drug (2023); the company has no role in this study.",
            "data_security_plan": "Analysis at the university.",
            "publication_plan": "Results submitted to a peer-reviewed journal within 6 months of the end of the "
                                "analysis, and presented at the annual EBMT meeting.",
            "collaborator": "The transplant working parties of both study groups.",
        },
        wanted=(Wanted(1, 2, ACUTE, ("transplant",)), Wanted(2, 1, ACUTE, ("transplant",))),
        road=(
            Step(12, "alice", "submit"),
            Step(10, "olga", "return",
                 comment="Please describe where the pooled data will be analysed and who has access to them: "
                         "'analysis at the university' is not enough for the committees."),
            Step(9, "alice", "edit", fields={"data_security_plan": SECURE}),
            Step(8, "alice", "resubmit"),
            Step(6, "olga", "send-to-review"),
            Step(4, "erin", "vote", committee=1, vote="approve-with-conditions",
                 comment="Approve, provided the transplant centre is not among the variables released: centres "
                         "with few transplants would make patients recognisable."),
        ),
    ),
    DemoProposal(
        applicant="bruno", days=6, ethics_reference="EC-IPO {year}/19",
        content={
            "title": "Venous thromboembolism during asparaginase-based therapy in childhood acute lymphoblastic "
                     "leukaemia",
            "lay_summary": "Children treated for leukaemia with the drug asparaginase sometimes develop blood clots. "
                           "We want to find out which children are most at risk, so that doctors know who may "
                           "benefit from medicine that prevents clots.",
            "abstract": "Asparaginase is central to the treatment of childhood ALL but is associated with venous "
                        "thromboembolism (VTE) in 5-10% of patients. Using trial data we will estimate the "
                        "incidence of VTE during induction and consolidation and its association with age, "
                        "asparaginase formulation, central venous lines and inherited thrombophilia.",
            "objectives": "1. Estimate the cumulative incidence of VTE during asparaginase therapy. 2. Identify risk "
                          "factors for VTE. 3. Describe the effect of VTE on asparaginase truncation and on "
                          "event-free survival.",
            "methods": "Cumulative incidence with death and relapse as competing events; risk factors by "
                       "cause-specific Cox regression stratified by trial.",
            "purpose": {"code": "DS", "disease": ALL},
            "duration_months": 12,
            "institution": BRUNO_INSTITUTION,
            "funding": "Institute of Paediatric Oncology, internal funding.",
            "conflicts_of_interest": "None.",
            "data_security_plan": "Data are stored on the institute's research server in a project folder that only "
                                  "the applicants can open; analyses run on the server, and nothing is copied "
                                  "elsewhere.",
            "publication_plan": "One paper in a paediatric haematology journal.",
            "collaborator": "The EPLN supportive care working party.",
        },
        wanted=(Wanted(2, 2, ALL, ("children", "childhood"), "paediatric"),),
        road=(
            Step(5, "bruno", "submit"),
            Step(3, "olga", "return",
                 comment="Please add how you will handle the competing risk of early death in the analysis of "
                         "asparaginase truncation, and name the statistician who will run the analysis."),
        ),
    ),
    DemoProposal(
        applicant="bruno", days=3, ethics_reference="EC-IPO {year}/27",
        content={
            "title": "Infection-related deaths during induction chemotherapy for acute myeloid leukaemia",
            "lay_summary": "Intensive chemotherapy for acute myeloid leukaemia weakens the body's defences against "
                           "infection, and some patients die of an infection before the leukaemia is under control. "
                           "We want to learn who is most at risk and whether preventive antifungal medicine helps.",
            "abstract": "Early death remains a concern in intensive induction for AML. We will describe the "
                        "incidence and causes of infection-related death within 60 days of starting induction, "
                        "and study its association with age, performance status, antifungal prophylaxis and the "
                        "period of treatment, in trial populations of adult AML.",
            "objectives": "1. Estimate 60-day infection-related mortality. 2. Identify its risk factors. 3. Compare "
                          "patients who received mould-active antifungal prophylaxis with those who did not.",
            "methods": "Logistic regression for 60-day infection-related death, with trial as random effect; "
                       "inverse probability weighting for the prophylaxis comparison.",
            "purpose": {"code": "HMB"},
            "duration_months": 18,
            "institution": BRUNO_INSTITUTION,
            "funding": "None needed: the analysis is part of the applicant's PhD project.",
            "conflicts_of_interest": "None.",
            "data_security_plan": "Analysis in the institute's secure research environment; only the applicant and "
                                  "his supervisor have access; no data leave the environment.",
            "publication_plan": "A paper in a peer-reviewed journal and a chapter of the applicant's PhD thesis.",
            "collaborator": "The NHTG AML working party.",
        },
        wanted=(Wanted(1, 2, AML, ("acute myeloid",), "adult"),),
        road=(Step(2, "bruno", "submit"),),
    ),
    DemoProposal(  # active: its access ends about a month after the load, so `tick` soon reminds alice
        applicant="alice", days=352, ethics_reference="METC {year}-088",
        content={
            "title": "Second primary cancers after treatment for multiple myeloma",
            "lay_summary": "People treated for multiple myeloma now live much longer, and some develop a second "
                           "cancer years later. We want to learn how often this happens and whether some "
                           "treatments make it more likely, so that follow-up can be planned better.",
            "abstract": "Lenalidomide maintenance and high-dose melphalan have been associated with second primary "
                        "malignancies (SPM) in multiple myeloma. Pooling the study group's trials, we will estimate "
                        "the cumulative incidence of haematological and solid SPM and relate it to maintenance "
                        "therapy, autologous transplantation and age.",
            "objectives": "1. Estimate the 5-year cumulative incidence of SPM. 2. Compare it by maintenance therapy "
                          "and transplantation. 3. Describe survival after an SPM.",
            "methods": "Cumulative incidence with death as competing event; Fine and Gray regression stratified by "
                       "trial, adjusted for age, sex and ISS stage.",
            "purpose": {"code": "HMB"},
            "duration_months": 12,
            "institution": ALICE_INSTITUTION,
            "funding": "Northbridge Cancer Foundation, small project grant.",
            "conflicts_of_interest": "None.",
            "data_security_plan": SECURE,
            "publication_plan": "One paper in a peer-reviewed haematology journal.",
            "collaborator": "The NHTG myeloma working party.",
        },
        wanted=(Wanted(1, 2, MYELOMA, ("myeloma",)),),
        road=(
            Step(351, "alice", "submit"),
            Step(349, "olga", "send-to-review"),
            Step(343, "dave", "vote", committee=1, vote="approve", comment="Relevant for survivorship care."),
            Step(341, "fay", "vote", committee=1, vote="approve"),
            Step(339, "chris", "decide", committee=1,
                 comment="Approved. The question matters for survivorship care and the datasets fit the purpose."),
            Step(337, "alice", "accept-agreement"),
        ),
    ),
    DemoProposal(  # expired: its access ended months ago, after bruno filed the final report
        applicant="bruno", days=540, ethics_reference="EC-IPO {year}/05",
        content={
            "title": "Late effects of anthracyclines on the heart in survivors of childhood leukaemia",
            "lay_summary": "Some medicines that cure childhood leukaemia can weaken the heart years later. We want "
                           "to learn which children are most at risk, so that they can be checked in time.",
            "abstract": "Anthracycline cardiotoxicity is a leading late effect after childhood ALL. Using trial "
                        "follow-up data we will estimate the cumulative incidence of reduced left ventricular "
                        "function and relate it to cumulative anthracycline dose, dexrazoxane and age at treatment.",
            "objectives": "1. Estimate the 10-year cumulative incidence of cardiotoxicity. 2. Relate it to dose, "
                          "dexrazoxane and age.",
            "methods": "Cumulative incidence with death as competing event; cause-specific Cox regression "
                       "stratified by trial.",
            "purpose": {"code": "DS", "disease": ALL},
            "duration_months": 12,
            "institution": BRUNO_INSTITUTION,
            "funding": "Institute of Paediatric Oncology, internal funding.",
            "conflicts_of_interest": "None.",
            "data_security_plan": "Analysis on the institute's research server in a project folder only the "
                                  "applicants can open; nothing is copied elsewhere.",
            "publication_plan": "One paper in a paediatric oncology journal.",
            "collaborator": "The EPLN late effects working party.",
        },
        wanted=(Wanted(2, 2, ALL, ("children", "childhood"), "paediatric"),),
        road=(
            Step(539, "bruno", "submit"),
            Step(537, "olga", "send-to-review"),
            Step(530, "gus", "vote", committee=2, vote="approve"),
            Step(528, "hana", "vote", committee=2, vote="approve", comment="Important for survivors."),
            Step(526, "ivy", "decide", committee=2, comment="Approved: a question that matters to survivors."),
            Step(524, "bruno", "accept-agreement"),
            Step(170, "bruno", "file-report", comment="The cardiotoxicity analysis is published; the data were "
                                                      "deleted from the project folder.",
                 fields={"publications": ["10.5555/harmony-demo.cardio.2026"], "data_deleted": True}),
            Step(150, "system", "expire"),
        ),
    ),
    DemoProposal(
        applicant="alice", days=1, complete=False,
        content={
            "title": "Early minimal residual disease response and relapse risk in paediatric acute lymphoblastic "
                     "leukaemia",
            "lay_summary": "After the first weeks of treatment, doctors measure how many leukaemia cells are left "
                           "(minimal residual disease). We want to learn how well this measurement predicts which "
                           "children will relapse, across different treatment protocols.",
            "objectives": "Estimate the relapse risk by MRD level at the end of induction, by immunophenotype and "
                          "protocol.",
            "purpose": {"code": "DS", "disease": ALL},
            "institution": ALICE_INSTITUTION,
        },
        wanted=(Wanted(1, 1, ALL, ("acute lymphoblastic",)), Wanted(2, 1, ALL, ("children",), "paediatric")),
    ),
]


def ethics_approval_pdf(title: str, reference: str, issued: datetime) -> bytes:
    """A one-page PDF (built by hand, valid: objects, cross-reference table, trailer) standing in for an
    ethics committee's approval letter."""
    lines = ["Medical Research Ethics Committee (Harmony demo)", "",
             f"Reference: {reference}", f"Date: {issued:%d %B %Y}", "",
             "Decision on the research protocol:", *(f"  {line}" for line in textwrap.wrap(title, 70)), "",
             "The committee has no objection to the secondary analysis of pseudonymised",
             "clinical trial data described in this protocol, under the conditions of the",
             "data access agreements of the study groups that provide the data.", "",
             "This letter is made up for the Harmony demo; it approves nothing."]
    text = "".join(f"({_pdf_escape(line)}) Tj T* " for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 72 770 Td {text}ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_escape(line: str) -> str:
    ascii_line = line.encode("ascii", "replace").decode()
    return ascii_line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class _Load:
    """One run of the proposals' loader: the personas as principals, the groups' datasets, the clock."""

    def __init__(self) -> None:
        self.issuer = _issuer()
        self.base = clock.now()
        self.groups = [catalog.group_by_acronym(group.acronym) for group in DEMO_GROUPS]
        self.used: set[int] = set()
        self._principals: dict[str, Principal] = {}

    def principal(self, subject: str) -> Principal:
        if subject == "system":
            return actions.SYSTEM
        if subject not in self._principals:
            self._principals[subject] = accounts.principal_for(accounts.find_user(subject, self.issuer))
        return self._principals[subject]

    def at(self, days: float):
        return clock.frozen(self.base - timedelta(days=days))

    def pick(self, wanted: Wanted, content: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The group's published datasets that fit the purpose, best topical match first; ones no other
        demo proposal asks for are preferred."""
        group: StudyGroup = self.groups[wanted.group - 1]
        vocabulary = diseases()
        scored = []
        for dataset in db.session().scalars(select(Dataset).where(Dataset.group_id == group.id,
                                                                  Dataset.state == PUBLISHED).order_by(Dataset.pid)):
            published = proposals.published_content(dataset)
            if dataset_objections(published, content):
                continue
            ids = [d for d in published.get("diseases", []) if d in vocabulary]
            score = 4 * any(d == wanted.disease or wanted.disease in vocabulary.ancestors(d) for d in ids)
            score += 2 * any(word in published.get("title", "").lower() for word in wanted.words)
            score += published.get("population") == wanted.population
            score -= 8 * (dataset.id in self.used)
            scored.append((-score, dataset.pid, dataset.id, published))
        chosen = sorted(scored)[:wanted.count]
        self.used.update(dataset_id for _score, _pid, dataset_id, _content in chosen)
        return [(pid, published) for _score, pid, _id, published in chosen]


def _meet(spec: DemoProposal, chosen: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The applicant's form, with what the chosen datasets' conditions ask for given (for a complete one)."""
    content = dict(spec.content)
    if not spec.complete:
        return content
    for requirement in requirements(chosen):
        if requirement.code == TS:
            content["duration_months"] = min(content.get("duration_months") or TIME_LIMIT_MONTHS, TIME_LIMIT_MONTHS)
        elif requirement.code == NPUNCU:
            content.update(non_commercial_declaration=True, not_for_profit_declaration=True)
        elif requirement.code == PUB:
            content["publication_commitment"] = True
        elif requirement.code not in (IRB, COL):
            content[requirement.field] = True
    return content


def _needs_ethics(chosen: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(requirement.code == IRB for requirement in requirements(chosen))


def _existing() -> dict[tuple[int, str], Proposal]:
    return {(proposal.applicant_id, proposal.content.get("title") or ""): proposal
            for proposal in db.session().scalars(select(Proposal).order_by(Proposal.id))}


def _make(load: _Load, spec: DemoProposal) -> Proposal | str:
    """Create the proposal and walk its road; a string says why it was skipped."""
    chosen = []
    for wanted in spec.wanted:
        picked = load.pick(wanted, spec.content)
        if len(picked) < 1:
            return f"no dataset of {load.groups[wanted.group - 1].acronym} fits its purpose"
        chosen += picked
    applicant = load.principal(spec.applicant)
    with load.at(spec.days):
        proposal = proposals.create_draft(applicant, ProposalContent.model_validate(_meet(spec, chosen)),
                                          [pid for pid, _content in chosen])
        if spec.complete and _needs_ethics(chosen):
            issued = clock.now() - timedelta(days=30)  # the ethics committee approved the protocol before
            reference = (spec.ethics_reference or "demo").format(year=issued.year)
            pdf = ethics_approval_pdf(spec.title, reference, issued)
            attachments.upload(applicant, proposal.id, ETHICS_APPROVAL, io.BytesIO(pdf),
                               f"Ethics approval {reference.replace('/', '-')}.pdf")
    for step in sorted(spec.road, key=lambda step: -step.days):  # in the order they happened
        with load.at(step.days):
            _walk(load, proposal.id, step)
    return db.session().get(Proposal, proposal.id, populate_existing=True)


def _walk(load: _Load, proposal_id: int, step: Step) -> None:
    actor = load.principal(step.who)
    if step.action == "edit":
        proposals.update_draft(actor, proposal_id, step.fields)
        return
    data = actions.ActionInput(comment=step.comment, vote=step.vote, **step.fields)
    if step.committee is None:
        actions.act_on_proposal(actor, proposal_id, step.action, data)
        return
    group = load.groups[step.committee - 1]
    review_id = db.session().scalar(select(Review.id).where(Review.proposal_id == proposal_id,
                                                            Review.committee_id == group.committee_id))
    if review_id is None:
        raise NotFound(f"the proposal has no review by the committee of {group.acronym}")
    actions.act_on_review(actor, review_id, step.action, data)


def _describe(proposal: Proposal, subject: str) -> str:
    state = workflow.state_label("proposal", proposal.state).lower()
    if proposal.outcome:
        state += f", {proposal.outcome.replace('_', ' ')}"
    return f"  #{proposal.id} {subject} ({state}): {proposal.content.get('title')}"


def load_requests() -> Iterator[str]:
    """The committees, then the demo proposals (those missing)."""
    _found, lines = load_committees()
    yield "Demo committees: " + "; ".join(lines) + "."
    load = _Load()
    existing = _existing()
    created = present = 0
    report = []
    for spec in DEMO_PROPOSALS:
        user = accounts.find_user(spec.applicant, load.issuer)
        proposal = existing.get((user.id, spec.title))
        if proposal is not None:
            present += 1
            report.append(_describe(proposal, spec.applicant))
            continue
        try:
            made = _make(load, spec)
        except HarmonyError as error:
            details = "".join(f" {key}: {'; '.join(messages)}." for key, messages
                              in getattr(error, "fields", {}).items())
            report.append(f"  {spec.applicant}: {spec.title}: stopped: {error}{details}")
            continue
        if isinstance(made, str):
            report.append(f"  {spec.applicant}: {spec.title}: skipped: {made}")
            continue
        created += 1
        report.append(_describe(made, spec.applicant))
    yield f"Demo proposals: {created} created, {present} present."
    yield from report
