"""What a family member's token shows of a claim (services/claims/views.py): where it
stands, what is missing, decisions, amounts approved and paid to them; the heir who signed
in in full, the other heirs by name and share only; no notes, no officers' ids."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from services.claims import catalogue, domain, views
from services.claims.service import view, view_for
from shared.access import family_phone
from shared.auth import Principal
from shared.redaction import family_history_line

CATALOGUE = catalogue.load()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
OFFICER = {"user": "officer-7", "role": "welfare_officer"}
SECOND = {"user": "officer-8", "role": "welfare_officer"}
MIGRANT = {"_id": "PB-2345-6789", "registered": True, "phone": "+8801712345678",
           "membership": {"number": "WEWB-1", "valid_until": "2027-12-31", "activated_on": "2025-01-01"},
           "steps": {"emigration_clearance": "2024-12-01"}}
VERIFIED = [{"_id": f"D{n}", "owner": MIGRANT["_id"], "doc_type": t, "status": "verified"}
            for n, t in enumerate(("death_certificate", "passport_copy"), start=1)]
ONE, TWO = "+8801711000001", "+8801711000002"
GRANT = "CLM-2026-TEST0001"


def heir(n, phone):
    return {"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"19901234567{n:02d}",
            "phone": phone, "share": {"numerator": 1, "denominator": 2},
            "payout": {"method": "bank", "provider": "Sonali Bank", "account_number": f"ACC-HEIR-{n}"}}


def paid_grant() -> dict:
    """A death grant walked to paid: approved, both heirs paid, an officer's note and an assignee."""
    filing = {"type": "death_grant", "migrant_reference": MIGRANT["_id"], "district": "Cumilla",
              "event": {"date": date(2026, 10, 1), "country": "SA"}, "heirs": [heir(1, ONE), heir(2, TWO)],
              "note": "Filed at the airport desk"}
    claim = domain.new_claim(CATALOGUE.get("death_grant"), CATALOGUE.version, filing, claim_id=GRANT,
                             migrant=MIGRANT, documents=VERIFIED, actor=OFFICER, now=NOW, today=NOW.date())
    claim = domain.assign(claim, officer="officer-7", actor=SECOND, now=NOW)
    claim = domain.request_information(claim, source="mission", note="Ask Riyadh for the police report",
                                       actor=OFFICER, now=NOW)
    claim = domain.information_received(claim, note="Report received", actor=OFFICER, now=NOW)
    if claim["status"] == domain.DOCUMENTS_PENDING:
        claim = {**claim, "status": domain.UNDER_REVIEW}
    claim = domain.add_note(claim, text="Second wife disputes the share", actor=OFFICER, now=NOW)
    claim = domain.approve(claim, amount=None, reason=None, eligibility_override="Checked by phone", actor=OFFICER,
                           now=NOW, second_approval_above=10_000_000)
    claim = domain.order_payment(claim, actor=OFFICER, now=NOW)
    half = claim["approved_amount"] // 2
    for heir_id in (1, 2):
        claim = domain.record_payment(claim, {"amount": half, "method": "bank", "account": f"ACC-HEIR-{heir_id}",
                                              "reference": f"BEFTN-{heir_id}", "heir_id": heir_id},
                                      actor=OFFICER, now=NOW + timedelta(days=1))
    return claim


def family(phone=ONE):
    return Principal(f"family:{phone}", "family", cases=(GRANT,))


def test_the_family_subject_names_the_phone_identity_signed_in():
    assert family_phone(family()) == ONE
    assert family_phone(Principal("phone-01811000000", "family", cases=(GRANT,))) is None
    assert family_phone(Principal(f"family:{ONE}", "migrant", migrant_ref="PB-2345-6789")) is None


def test_an_heir_sees_themself_in_full_and_the_other_heir_by_name_and_share_only():
    shown = views.family_view(view(paid_grant()), family(ONE))
    mine, other = shown["heirs"]
    assert mine["nid"] == "1990123456701" and mine["payout"]["account_number"] == "ACC-HEIR-1" \
        and mine["phone"] == ONE
    assert other == {"heir_id": 2, "name_en": "Heir 2", "name_bn": "ওয়ারিশ 2",
                     "share": {"numerator": 1, "denominator": 2}}
    text = json.dumps(shown, default=str)
    for secret in ("1990123456702", "ACC-HEIR-2", "BEFTN-2", TWO):
        assert secret not in text, secret


def test_the_other_heir_sees_the_mirror_image():
    text = json.dumps(views.family_view(view(paid_grant()), family(TWO)), default=str)
    assert "1990123456702" in text and "ACC-HEIR-2" in text
    for secret in ("1990123456701", "ACC-HEIR-1", "BEFTN-1", ONE):
        assert secret not in text, secret


def test_a_token_with_another_subject_sees_no_heir_in_full():
    text = json.dumps(views.family_view(view(paid_grant()), Principal("phone-x", "family", cases=(GRANT,))),
                      default=str)
    for secret in ("19901234567", "ACC-HEIR", "BEFTN", ONE, TWO):
        assert secret not in text, secret


def test_status_checklist_decision_and_amounts_stay_payments_show_only_the_family_members_account():
    claim = paid_grant()
    shown = views.family_view(view(claim), family(ONE))
    assert shown["status"] == domain.PAID and shown["claim_id"] == GRANT and shown["version"] == claim["version"]
    assert [item["doc_types"] for item in shown["checklist"]] == [item["doc_types"] for item in claim["checklist"]]
    assert shown["approved_amount"] == claim["approved_amount"] and shown["paid_total"] == claim["paid_total"]
    assert shown["decision"]["amount"] == claim["approved_amount"] and "by" not in shown["decision"] \
        and "approved_by" not in shown["decision"]
    first, second = shown["payments"]
    assert first["account"] == "ACC-HEIR-1" and first["reference"] == "BEFTN-1"
    assert second == {"amount": claim["approved_amount"] // 2, "method": "bank", "heir_id": 2,
                      "recorded_at": second["recorded_at"]}
    assert shown["claimant_phone"] == ONE


def test_notes_officers_and_what_a_mission_was_asked_are_not_shown():
    shown = views.family_view(view(paid_grant()), family(ONE))
    text = json.dumps(shown, default=str)
    for internal in ("officer-7", "officer-8", "Second wife disputes", "Ask Riyadh", "Filed at the airport desk"):
        assert internal not in text, internal
    for field in ("notes", "assignee", "assigned_by", "note"):
        assert field not in shown, field
    assert shown["filed_by"] == {"role": "welfare_officer", "at": "2026-11-28T09:00:00Z"}
    assert shown["information_request"]["from"] == "mission" and "note" not in shown["information_request"]


def test_what_the_family_was_asked_for_is_theirs_to_read():
    claim = domain.request_information({**paid_grant(), "status": domain.UNDER_REVIEW}, source="family",
                                       note="Send the heirship certificate", actor=OFFICER, now=NOW)
    shown = views.family_view(view(claim), family(ONE))
    assert shown["information_request"]["note"] == "Send the heirship certificate"
    assert "by" not in shown["information_request"]


def test_a_childs_guardian_sees_the_child_in_full_anyone_else_by_name():
    claim = {**view(paid_grant()), "heirs": None, "claimant_phone": ONE,
             "child": {"name_en": "Rina", "name_bn": "রিনা", "birth_registration_number": "1" * 17,
                       "guardian_phone": ONE}}
    assert views.family_view(claim, family(ONE))["child"]["birth_registration_number"] == "1" * 17
    other = views.family_view(claim, family(TWO))
    assert other["child"] == {"name_en": "Rina", "name_bn": "রিনা"} and "claimant_phone" not in other


def test_history_lines_keep_what_happened_and_drop_anything_else():
    entry = {"_id": "e1", "event_id": "e1", "claim_id": GRANT, "type": domain.APPROVED_EVENT, "status": "approved",
             "occurred_at": NOW, "summary": "Approved", "summary_bn": "অনুমোদিত", "actor": {"user": "officer-7"}}
    assert family_history_line(entry) == {"event_id": "e1", "type": domain.APPROVED_EVENT,
                                                "status": "approved", "occurred_at": NOW, "summary": "Approved",
                                                "summary_bn": "অনুমোদিত"}


def test_staff_and_the_migrant_see_the_whole_claim():
    claim = paid_grant()
    for principal in (Principal("officer-1", "welfare_officer"),
                      Principal("m-1", "migrant", migrant_ref=MIGRANT["_id"])):
        assert view_for(principal, claim) == view(claim)
    assert view_for(family(ONE), claim) == views.family_view(view(claim), family(ONE))
