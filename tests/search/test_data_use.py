"""The research-purpose rule: which data-use conditions permit which purposes (a table of cases)."""

from __future__ import annotations

import pytest

from harmony.catalog.data_use import DS, GRU, HMB, POA, Purpose, objections, permits

AML, ALL, LEUKAEMIA, APL, CLL = "DOID:9119", "DOID:9952", "DOID:1240", "DOID:0060318", "DOID:1040"

general = Purpose(GRU)
health = Purpose(HMB)
aml_research = Purpose(DS, AML)
apl_research = Purpose(DS, APL)  # acute promyelocytic leukaemia lies under AML
all_research = Purpose(DS, ALL)
ancestry = Purpose(POA)

CASES = [
    # conditions, restricted to, purpose, permitted
    (["NRES"], [], general, True),
    (["NRES"], [], ancestry, True),
    (["GRU"], [], general, True),
    (["GRU"], [], health, True),
    (["GRU"], [], aml_research, True),
    (["GRU"], [], ancestry, True),
    (["HMB"], [], general, False),
    (["HMB"], [], health, True),
    (["HMB"], [], aml_research, True),
    (["HMB"], [], ancestry, False),
    (["DS"], [AML], aml_research, True),
    (["DS"], [AML], apl_research, True),  # a narrower disease
    (["DS"], [APL], aml_research, False),  # a broader disease
    (["DS"], [AML], all_research, False),
    (["DS"], [LEUKAEMIA], all_research, True),
    (["DS"], [AML, ALL], all_research, True),
    (["DS"], [AML], health, False),
    (["DS"], [AML], general, False),
    (["DS"], [], aml_research, False),  # names no disease
    (["POA"], [], ancestry, True),
    (["POA"], [], health, False),
    (["GRU", "NPOA"], [], ancestry, False),
    (["GRU", "NPOA"], [], health, True),
    (["GRU", "NCU"], [], Purpose(HMB, commercial=True), False),
    (["GRU", "NCU"], [], Purpose(HMB, for_profit=True), True),
    (["GRU", "NPU"], [], Purpose(HMB, for_profit=True), False),
    (["GRU", "NPU"], [], Purpose(HMB, commercial=True), True),
    (["GRU", "NPUNCU"], [], Purpose(HMB, commercial=True), False),
    (["GRU", "NPUNCU"], [], Purpose(HMB, for_profit=True), False),
    (["GRU", "NPUNCU"], [], health, True),
    (["HMB", "NMDS"], [], Purpose(HMB, methods=True), False),
    (["HMB", "NMDS"], [], health, True),
    (["HMB", "GSO"], [], health, False),
    (["HMB", "GSO"], [], Purpose(HMB, genetic=True), True),
    (["GRU"], [], Purpose(HMB, clinical_care=True), False),
    (["GRU", "CC"], [], Purpose(HMB, clinical_care=True), True),
    # conditions to meet, not purposes to refuse
    (["HMB", "IRB", "PUB", "COL", "TS", "GS", "IS", "US", "PS", "MOR", "RTN", "RS"], [], health, True),
    ([], [], health, False),  # no permission stated
    (["IRB", "PUB"], [], health, False),
    (["HMB", "DS"], [AML], all_research, True),  # the broader permission decides
    # DUO ids and shorthands alike
    (["DUO:0000007"], [AML], aml_research, True),
    (["DUO:0000006", "DUO:0000046"], [], Purpose(HMB, commercial=True), False),
]


@pytest.mark.parametrize(("conditions", "restricted", "purpose", "expected"), CASES)
def test_permits(conditions, restricted, purpose, expected):
    assert permits(conditions, restricted, purpose) is expected
    reasons = objections(conditions, restricted, purpose)
    assert bool(reasons) is not expected
    assert all(reason.endswith(".") for reason in reasons)


def test_every_objection_is_said():
    reasons = objections(["HMB", "NCU", "NPU", "GSO"], [], Purpose(HMB, commercial=True, for_profit=True))
    assert len(reasons) == 3


def test_a_purpose_must_be_complete():
    with pytest.raises(ValueError):
        Purpose(DS)
    with pytest.raises(ValueError):
        Purpose("DUO:0000021")  # a modifier is not a purpose
