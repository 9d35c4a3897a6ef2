"""The claim-type catalogue: the shipped file loads, carries the published amounts, names
only the vault's document types, and a catalogue that does not hold together stops start-up."""
from __future__ import annotations

import copy
import json

import pytest

from services.claims import catalogue
from services.claims.catalogue import CatalogueError
from services.documents.doctypes import DEFAULT_CODES

RAW = json.loads(catalogue.DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_shipped_catalogue_has_every_type_the_issue_lists_with_the_published_amounts():
    loaded = catalogue.load()
    assert loaded.version and loaded.effective_from
    assert set(loaded.codes) >= {"burial_transport", "death_grant", "medical_aid", "scholarship",
                                 "disabled_child_allowance", "compensation_recovered", "legal_aid",
                                 "pkb_loan_referral"}
    assert dict(loaded.get("burial_transport").amount) == {"rule": "fixed", "amount": 35000}
    assert dict(loaded.get("death_grant").amount) == {"rule": "fixed", "amount": 300000}
    assert dict(loaded.get("disabled_child_allowance").amount) == {"rule": "per_month", "monthly": 1000, "months": 60}
    assert loaded.get("medical_aid").amount["rule"] == "capped"
    assert loaded.get("death_grant").unique_per == ("migrant",)
    assert loaded.get("scholarship").unique_per == ("child", "exam_level", "exam_year")


def test_every_required_document_is_a_type_the_documents_service_accepts():
    for claim_type in catalogue.load().types.values():
        for group in claim_type.documents:
            assert set(group) <= set(DEFAULT_CODES), (claim_type.code, group)


def _broken(change) -> dict:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


@pytest.mark.parametrize("change, says", [
    (lambda r: r.pop("version"), "version"),
    (lambda r: r.update(effective_from="soon"), "effective_from"),
    (lambda r: r["types"].append(copy.deepcopy(r["types"][0])), "listed twice"),
    (lambda r: r["types"][0].update(amount={"rule": "fixed"}), "amount"),
    (lambda r: r["types"][0].update(amount={"rule": "lottery"}), "amount"),
    (lambda r: r["types"][0].update(claimants="neighbours"), "claimants"),
    (lambda r: r["types"][0].update(documents=[["Death Certificate"]]), "documents"),
    (lambda r: r["types"][0].update(documents=[]), "documents"),
    (lambda r: r["types"][0].update(eligibility=[{"condition": "filed_within_days"}]), "eligibility"),
    (lambda r: r["types"][0].update(unique_per=["exam_year"]), "unique_per"),
    (lambda r: r["types"][0].update(target_days={"under_review": 0}), "target_days"),
])
def test_a_catalogue_that_does_not_hold_together_is_refused_naming_where(change, says):
    with pytest.raises(CatalogueError, match=says):
        catalogue.parse(_broken(change))


def test_an_unreadable_catalogue_file_is_refused(tmp_path):
    path = tmp_path / "catalogue.json"
    path.write_text("{not json")
    with pytest.raises(CatalogueError, match="JSON"):
        catalogue.load(path)
