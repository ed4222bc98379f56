"""A committee's public page (/committees/<id>): who decides on which study groups' datasets, by which
rule, and the data access agreement in force. Visas name this page as their `source`, so a data
platform (or anyone) can see which body asserted the access."""

from __future__ import annotations

from flask import render_template

from harmony.access_requests import committees
from harmony.access_requests.rules import RULE_NAMES
from harmony.access_requests.views import access_requests


@access_requests.get("/committees/<int:committee_id>")
def public_committee(committee_id: int):
    committee = committees.get_committee(committee_id)
    return render_template("access_requests/committee_public.html", committee=committee,
                           groups=committees.governed_groups(committee.id), members=committees.members(committee.id),
                           agreement=committees.agreement_text(committee),
                           quorum=committees.quorum_label(committee.quorum), rule_names=RULE_NAMES)
