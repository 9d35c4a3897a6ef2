"""names.json (services/casestatus): a copy of the owning services' data, kept in step here,
since the package imports no other service."""
from __future__ import annotations

import json
from pathlib import Path

from services.casestatus import names
from services.documents.doctypes import DEFAULT_DOCUMENT_TYPES
from services.registration.reference_data import PRE_DEPARTURE_STEP_LABELS

SERVICES = Path(names.__file__).resolve().parent.parent


def test_document_types_are_the_vaults():
    assert names.load()["document_types"] == {t.code: {"en": t.label_en, "bn": t.label_bn}
                                              for t in DEFAULT_DOCUMENT_TYPES}


def test_claim_types_and_their_documents_are_the_catalogues():
    catalogue = json.loads((SERVICES / "claims" / "catalogue.json").read_text(encoding="utf-8"))
    assert names.load()["claim_types"] == {t["code"]: {"en": t["name_en"], "bn": t["name_bn"],
                                                       "documents": t["documents"]} for t in catalogue["types"]}


def test_complaint_categories_and_referral_bodies_are_complaints():
    lists = json.loads((SERVICES / "complaints" / "categories.json").read_text(encoding="utf-8"))
    for ours, theirs in (("complaint_categories", "categories"), ("referral_bodies", "referral_bodies")):
        assert names.load()[ours] == {e["code"]: {"en": e["name_en"], "bn": e["name_bn"]} for e in lists[theirs]}


def test_pre_departure_steps_are_registrations():
    assert names.load()["pre_departure_steps"] == {k: dict(v) for k, v in PRE_DEPARTURE_STEP_LABELS.items()}


def test_an_unknown_code_reads_as_words():
    assert names.name("document_types", "bank_statement", "en") == "Bank statement"
    assert names.name("document_types", "visa", "bn") == "ভিসা"
