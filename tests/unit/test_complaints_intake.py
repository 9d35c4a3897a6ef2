"""Complaint intake (services/complaints/intake.py): each field's rule and refusal."""
from __future__ import annotations

import pytest

from services.complaints import domain
from services.complaints import intake as intake_rules
from shared.errors import Forbidden, Invalid

from .complaints_builders import LISTS, MIGRANT, NOW, STAFF, intake, received


def refused(**overrides) -> dict:
    with pytest.raises(Invalid) as caught:
        received(**overrides)
    return caught.value.errors


def test_a_complaint_is_received_with_its_receipt_number_respondents_and_channel():
    c = received()
    assert c["status"] == domain.RECEIVED and c["receipt_number"] == "CP-2345-678X"
    assert c["complainant"]["phone"] == "+8801712345678"
    assert [r["kind"] for r in c["respondents"]] == list(intake_rules.RESPONDENT_KINDS)
    assert c["respondents"][0]["licence"] == "RL-1234" and c["agency_licences"] == ["RL-1234"]
    assert c["respondents"][1]["phone"] == "+8801811111111" and c["respondents"][2]["country"] == "SA"
    assert c["channel"] == "udc" and c["amount_claimed"] == 250000 and c["version"] == 1
    assert c["filed_by"] == {**STAFF, "at": NOW} and c["restricted"] is False


def test_a_migrant_files_their_own_complaint_but_not_someone_elses():
    assert received(actor=MIGRANT)["filed_by"]["role"] == "migrant"
    other = {**MIGRANT, "migrant_ref": "PB-9999-9999"}
    with pytest.raises(Forbidden, match="their own"):
        received(actor=other)


def test_an_admin_is_not_among_those_who_file():
    with pytest.raises(Forbidden, match="cannot file"):
        received(actor={"user": "a", "role": "admin"})


@pytest.mark.parametrize("overrides, field", [
    ({"channel": "fax"}, "channel"),
    ({"category": "bad_food"}, "category"),
    ({"respondents": []}, "respondents"),
    ({"respondents": [{"kind": "broker", "name": "x"}]}, "respondents.0.kind"),
    ({"respondents": [{"kind": "recruiting_agency", "name": "X", "licence": "ABC"}]}, "respondents.0.licence"),
    ({"respondents": [{"kind": "recruiting_agency", "name": "X", "licence": "RL-0"}]}, "respondents.0.licence"),
    ({"respondents": [{"kind": "sub_agent", "name": "X", "phone": "12345"}]}, "respondents.0.phone"),
    ({"respondents": [{"kind": "employer_abroad", "name": "X", "country": "Saudi"}]}, "respondents.0.country"),
    ({"respondents": [{"kind": "employer_abroad", "name": "", "country": "SA"}]}, "respondents.0.name"),
    ({"amount_claimed": -1}, "amount_claimed"),
    ({"amount_claimed": 10.5}, "amount_claimed"),
    ({"amount_claimed": True}, "amount_claimed"),
    ({"narrative": "too short"}, "narrative"),
    ({"narrative": "x" * (intake_rules.NARRATIVE_MAX + 1)}, "narrative"),
    ({"restricted": "yes"}, "restricted"),
    ({"complainant": {"migrant_reference": "", "name": "R", "phone": "01712345678"}},
     "complainant.migrant_reference"),
    ({"complainant": {"migrant_reference": "PB-1", "name": "R", "phone": "999"}}, "complainant.phone"),
    ({"complainant": {"migrant_reference": "PB-1", "phone": "01712345678"}}, "complainant.name"),
    ({"complainant": {"migrant_reference": "PB-1", "name": "R", "phone": "01712345678", "relation": "boss"}},
     "complainant.relation"),
])
def test_each_bad_field_is_named(overrides, field):
    assert field in refused(**overrides)


def test_every_bad_field_is_named_at_once_and_nothing_is_made():
    errors = refused(channel="fax", category="x", amount_claimed=-5, narrative="")
    assert {"channel", "category", "amount_claimed", "narrative"} <= set(errors)


def test_licences_and_phones_are_read_as_people_write_them():
    assert intake_rules.normalise_licence("rl ১২৩৪") == "RL-1234"
    assert intake_rules.normalise_licence("0042") == "RL-42"
    assert intake_rules.normalise_phone("+880 1712-345678") == "+8801712345678"


def test_a_restricted_complaint_is_marked_so():
    c = intake_rules.new_complaint(intake(restricted=True, category="abuse_unsafe_work"), complaint_id="C",
                                   lists=LISTS, receipt_number="CP-2222-2222", actor=STAFF, now=NOW)
    assert c["restricted"] is True and domain.event_data(c)["restricted"] is True
