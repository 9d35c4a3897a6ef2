"""The claim rules without I/O: filing, eligibility condition by condition, the checklist,
the lifecycle, decisions and payments (services/claims/domain.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.claims import catalogue, domain
from shared.errors import Conflict, Forbidden, Invalid

CATALOGUE = catalogue.load()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 28)
OFFICER = {"user": "officer-1", "role": "welfare_officer"}
SECOND = {"user": "officer-2", "role": "welfare_officer"}
MIGRANT = {"_id": "PB-2345-6789", "registered": True, "phone": "+8801712345678",
           "membership": {"number": "WEWB-1", "valid_until": "2027-12-31", "activated_on": "2025-01-01"},
           "steps": {"emigration_clearance": "2024-12-01"}}


def heir(n, numerator, denominator, **extra):
    return {"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"19901234567{n:02d}",
            "phone": f"+88017123456{n:02d}", "payout": {"method": "bank", "bank": "Sonali Bank",
                                                         "account_number": f"00012345{n}"},
            "share": {"numerator": numerator, "denominator": denominator}, **extra}


def death_filing(**overrides):
    return {"type": "death_grant", "migrant_reference": MIGRANT["_id"], "district": "Cumilla",
            "event": {"date": date(2026, 10, 1), "country": "SA"},
            "heirs": [heir(1, 1, 2), heir(2, 1, 2)], **overrides}


def file(filing=None, documents=(), migrant=MIGRANT, today=TODAY):
    filing = filing or death_filing()
    return domain.new_claim(CATALOGUE.get(filing["type"]), CATALOGUE.version, filing, claim_id="CLM-2026-TEST0001",
                            migrant=migrant, documents=list(documents), actor=OFFICER, now=NOW, today=today)


def doc(doc_id, doc_type, status, reason=None):
    return {"_id": doc_id, "owner": MIGRANT["_id"], "doc_type": doc_type, "status": status, "reason": reason}


ALL_VERIFIED = [doc("D1", "death_certificate", "verified"), doc("D2", "passport_copy", "verified"),
                doc("D3", "heirship_certificate", "verified")]


# -- filing --------------------------------------------------------------------------------

def test_a_death_grant_is_filed_with_its_heirs_and_the_catalogue_version():
    claim = file()
    assert claim["status"] == domain.DOCUMENTS_PENDING
    assert claim["catalogue_version"] == CATALOGUE.version
    assert [h["heir_id"] for h in claim["heirs"]] == [1, 2]
    assert claim["claimant_phone"] == "+8801712345601"
    assert claim["unique_key"] == "death_grant|PB-2345-6789"
    assert [i["status"] for i in claim["checklist"]] == ["missing"] * 3


@pytest.mark.parametrize("heirs", [[heir(1, 1, 2)], [heir(1, 1, 2), heir(2, 2, 3)], []])
def test_heirs_shares_must_add_up_to_the_whole(heirs):
    with pytest.raises(Invalid) as refused:
        file(death_filing(heirs=heirs))
    assert "heirs" in refused.value.errors


def test_a_death_needs_its_date_and_country():
    with pytest.raises(Invalid) as refused:
        file(death_filing(event={"date": date(2026, 10, 1)}))
    assert "country" in refused.value.errors["event"][0]


def test_only_a_child_claim_names_a_child_and_a_child_claim_needs_one():
    child_filing = {"type": "disabled_child_allowance", "migrant_reference": MIGRANT["_id"], "district": "Sylhet",
                    "event": {}}
    with pytest.raises(Invalid):
        file(child_filing)
    with pytest.raises(Invalid):
        file(death_filing(child={"name_en": "A", "name_bn": "ক", "birth_registration_number": "1" * 17}))


def test_a_scholarship_is_unique_per_child_exam_level_and_year():
    filing = {"type": "scholarship", "migrant_reference": MIGRANT["_id"], "district": "Sylhet",
              "event": {"exam_level": "ssc", "exam_year": 2026, "gpa": 5.0},
              "child": {"name_en": "Rina", "name_bn": "রিনা", "birth_registration_number": "2" * 17}}
    assert file(filing)["unique_key"] == "scholarship|" + "2" * 17 + "|ssc|2026"
    assert "unique_key" not in file({**filing, "type": "medical_aid", "child": None,
                                     "event": {"date": date(2026, 10, 1), "requested_amount": 5000}})


# -- eligibility ---------------------------------------------------------------------------

def test_eligibility_is_shown_condition_by_condition_and_does_not_block_filing():
    lapsed = {**MIGRANT, "membership": {"valid_until": "2026-09-01", "activated_on": "2025-01-01"}, "steps": {}}
    claim = file(migrant=lapsed, today=date(2028, 1, 1))
    results = {r["condition"]: r["met"] for r in claim["eligibility"]}
    assert results == {"membership_active_on_event_date": False, "clearance_recorded": False,
                       "filed_within_days": False}
    assert all(r["detail"] for r in claim["eligibility"])
    assert claim["status"] == domain.DOCUMENTS_PENDING


def test_each_finding_has_a_code_and_its_values_beside_the_english_sentence():
    lapsed = {**MIGRANT, "membership": {"valid_until": "2026-09-01", "activated_on": "2025-01-01"}, "steps": {}}
    claim = file(migrant=lapsed, today=date(2028, 1, 1))
    findings = {r["condition"]: (r["detail_code"], r["detail_args"]) for r in claim["eligibility"]}
    event_day = claim["event"]["date"]
    waited = (date(2028, 1, 1) - date.fromisoformat(str(event_day))).days
    assert findings["membership_active_on_event_date"] == (
        "membership_not_active", {"valid_until": "2026-09-01", "since": "2025-01-01", "on": str(event_day)})
    assert findings["clearance_recorded"] == ("no_clearance", {})
    assert findings["filed_within_days"][0] == "filed_days_after_event"
    assert findings["filed_within_days"][1]["days"] == waited
    met = {r["condition"]: r["detail_code"] for r in file()["eligibility"]}
    assert met["membership_active_on_event_date"] == "membership_active"
    assert met["clearance_recorded"] == "clearance_recorded"


def test_a_member_with_clearance_filing_in_time_meets_every_condition():
    assert domain.eligible(file())


# -- checklist -----------------------------------------------------------------------------

def test_documents_verified_before_filing_tick_the_checklist_at_once():
    claim = file(documents=[doc("D1", "passport_copy", "verified")])
    passport = next(i for i in claim["checklist"] if i["doc_types"] == ["passport_copy"])
    assert passport == {"doc_types": ["passport_copy"], "status": "verified", "document_id": "D1", "reason": None}


def test_a_claim_whose_documents_are_all_verified_goes_straight_to_review():
    assert file(documents=ALL_VERIFIED)["status"] == domain.UNDER_REVIEW


def test_the_checklist_shows_uploaded_and_rejected_with_the_reason():
    claim = file()
    changed = domain.refresh_checklist(claim, [doc("D1", "death_certificate", "uploaded"),
                                              doc("D2", "passport_copy", "rejected", "Name differs from NID")])
    assert changed
    states = {i["doc_types"][0]: (i["status"], i["reason"]) for i in claim["checklist"]}
    assert states == {"death_certificate": ("uploaded", None), "passport_copy": ("rejected", "Name differs from NID"),
                      "heirship_certificate": ("missing", None)}
    assert not domain.refresh_checklist(claim, [doc("D1", "death_certificate", "uploaded"),
                                                doc("D2", "passport_copy", "rejected", "Name differs from NID")])


def test_a_one_of_item_is_ticked_by_any_of_its_types():
    filing = {"type": "compensation_recovered", "migrant_reference": MIGRANT["_id"], "district": "Dhaka",
              "event": {"date": date(2026, 10, 1), "country": "MY"}, "heirs": [heir(1, 1, 1)]}
    claim = file(filing, documents=[doc("D9", "visa", "verified")])
    group = next(i for i in claim["checklist"] if len(i["doc_types"]) == 3)
    assert (group["status"], group["document_id"]) == ("verified", "D9")
    assert domain.document_ids(claim) == ["D9"]


# -- lifecycle -----------------------------------------------------------------------------

def test_an_illegal_step_is_a_conflict_naming_the_allowed_ones():
    claim = file()
    with pytest.raises(Conflict) as refused:
        domain.close(claim, note=None, actor=OFFICER, now=NOW)
    assert refused.value.extra["allowed"] == ["awaiting_information", "under_review", "withdrawn"]


def test_awaiting_information_goes_back_to_where_the_claim_was():
    claim = file(documents=ALL_VERIFIED)
    waiting = domain.request_information(claim, source="mission", note="Need the employer's report",
                                         actor=OFFICER, now=NOW)
    assert (waiting["status"], waiting["version"]) == (domain.AWAITING_INFORMATION, 2)
    back = domain.information_received(waiting, note="Received", actor=OFFICER, now=NOW)
    assert back["status"] == domain.UNDER_REVIEW


def test_a_rejection_carries_its_reason_in_both_languages_and_a_review_can_be_requested():
    claim = file(documents=ALL_VERIFIED)
    rejected = domain.reject(claim, code="not_member", text_en="Not a WEWB member", text_bn="সদস্য নন",
                             actor=OFFICER, now=NOW)
    assert rejected["rejection"]["code"] == "not_member" and rejected["rejection"]["text_bn"] == "সদস্য নন"
    again = domain.request_review(rejected, note="Membership card found", actor=OFFICER, now=NOW)
    assert again["status"] == domain.REVIEW_REQUESTED
    approved = domain.approve(again, amount=None, reason=None, eligibility_override=None, actor=OFFICER, now=NOW,
                              second_approval_above=10**9)
    assert approved["status"] == domain.APPROVED


def test_a_withdrawn_claim_releases_its_uniqueness_key_and_can_then_be_closed():
    withdrawn = domain.withdraw(file(), reason="Filed twice by mistake", actor=OFFICER, now=NOW)
    assert "unique_key" not in withdrawn
    assert domain.close(withdrawn, note=None, actor=OFFICER, now=NOW)["status"] == domain.CLOSED


# -- decisions -----------------------------------------------------------------------------

def approve(claim, actor=OFFICER, threshold=10**9, **kwargs):
    args = {"amount": None, "reason": None, "eligibility_override": None, **kwargs}
    return domain.approve(claim, actor=actor, now=NOW, second_approval_above=threshold, **args)


def test_the_amount_comes_from_the_rule_lower_only_with_a_reason_never_above_the_cap():
    claim = file(documents=ALL_VERIFIED)
    assert approve(claim)["approved_amount"] == 300000
    with pytest.raises(Invalid) as no_reason:
        approve(claim, amount=250000)
    assert "reason" in no_reason.value.errors
    assert approve(claim, amount=250000, reason="Part paid by the employer")["approved_amount"] == 250000
    with pytest.raises(Invalid) as above:
        approve(claim, amount=300001)
    assert "amount" in above.value.errors


def test_a_capped_amount_is_what_was_asked_up_to_the_cap():
    filing = {"type": "medical_aid", "migrant_reference": MIGRANT["_id"], "district": "Dhaka",
              "event": {"date": date(2026, 10, 1), "requested_amount": 400000}}
    claim = file(filing, documents=[doc("A", "medical_report", "verified"), doc("B", "passport_copy", "verified"),
                                    doc("C", "emigration_clearance", "verified")])
    assert domain.rule_amount(claim) == (150000, 150000)


def test_unmet_conditions_need_a_recorded_reason_to_approve_anyway():
    claim = file(migrant={**MIGRANT, "membership": None}, documents=ALL_VERIFIED)
    with pytest.raises(Invalid) as refused:
        approve(claim)
    assert "eligibility_override" in refused.value.errors
    approved = approve(claim, eligibility_override="Board extended the grant to unregistered workers")
    assert approved["decision"]["unmet_conditions"] == ["membership_active_on_event_date"]


def test_above_the_threshold_a_second_officer_approves_not_the_recommender():
    claim = file(documents=ALL_VERIFIED)
    recommended = approve(claim, threshold=100000)
    assert (recommended["status"], recommended["approved_amount"]) == (domain.RECOMMENDED, None)
    with pytest.raises(Forbidden):
        approve(recommended, threshold=100000)
    approved = approve(recommended, actor=SECOND, threshold=100000)
    assert (approved["status"], approved["approved_amount"]) == (domain.APPROVED, 300000)
    assert approved["decision"]["by"] == "officer-1" and approved["decision"]["approved_by"] == "officer-2"


# -- payments ------------------------------------------------------------------------------

def ordered(claim=None, amount=None):
    approved = approve(claim or file(documents=ALL_VERIFIED), amount=amount, reason="test" if amount else None)
    return domain.order_payment(approved, actor=OFFICER, now=NOW)


def pay(claim, amount, heir_id=1, reference="BEFTN-1"):
    return domain.record_payment(claim, {"amount": amount, "heir_id": heir_id, "method": "bank",
                                         "account": "0001", "reference": reference}, actor=OFFICER, now=NOW)


def test_payments_per_heir_up_to_the_approved_amount_and_paid_when_whole():
    claim = ordered()
    first = pay(claim, 150000, 1, "R1")
    assert (first["status"], first["paid_total"]) == (domain.PAYMENT_ORDERED, 150000)
    with pytest.raises(Conflict):
        pay(first, 1, 1, "R2")  # heir 1 has their half
    paid = pay(first, 150000, 2, "R3")
    assert (paid["status"], paid["paid_total"]) == (domain.PAID, 300000)


def test_a_payment_beyond_the_approved_amount_is_refused():
    with pytest.raises(Conflict) as refused:
        pay(ordered(), 300001)
    assert refused.value.extra["remaining"] == 300000


def test_payments_wait_for_the_payment_order():
    approved = approve(file(documents=ALL_VERIFIED))
    with pytest.raises(Conflict):
        pay(approved, 1000)


def test_heir_shares_round_to_whole_taka_and_add_up_to_the_approved_amount():
    filing = death_filing(heirs=[heir(1, 1, 3), heir(2, 1, 3), heir(3, 1, 3)])
    claim = approve(file(filing, documents=ALL_VERIFIED), amount=100000, reason="test")
    assert sum(domain.heir_share(claim, h) for h in claim["heirs"]) == 100000


def test_every_event_carries_the_case_shape_documents_reads():
    data = domain.event_data(file(documents=[doc("D1", "passport_copy", "verified")]))
    assert data == {"case_id": "CLM-2026-TEST0001", "status": "documents_pending", "document_ids": ["D1"],
                    "claim_type": "death_grant", "migrant_reference": "PB-2345-6789",
                    "claimant_phone": "+8801712345601", "approved_amount": None}


def test_eligibility_is_reassessed_when_registration_publishes_more_under_the_rules_it_was_filed_with():
    claim = file(migrant={**MIGRANT, "steps": {}})
    assert {r["condition"]: r["met"] for r in claim["eligibility"]}["clearance_recorded"] is False
    assert not domain.reassess(claim, {**MIGRANT, "steps": {}})
    assert domain.reassess(claim, MIGRANT)
    assert all(r["met"] for r in claim["eligibility"])
    assert claim["eligibility_rules"] == [dict(c) for c in CATALOGUE.get("death_grant").eligibility]
    assert claim["filed_on"] == TODAY.isoformat()


def test_each_stage_records_when_it_began_for_the_stage_clocks():
    claim = file()
    assert claim["stage_since"] == NOW
    later = datetime(2026, 11, 29, tzinfo=timezone.utc)
    waiting = domain.request_information(claim, source="family", note="Heirs' photos", actor=OFFICER, now=later)
    assert waiting["stage_since"] == later
    assert domain.assign(waiting, officer="o-2", actor=OFFICER, now=NOW)["stage_since"] == later
