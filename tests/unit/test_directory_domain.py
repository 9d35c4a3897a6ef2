"""The directory's rules without I/O: bilingual texts in both languages (Bangla in Bangla,
English in English), licences in one spelling, statuses and topic kinds from their lists,
last_checked not later than today; versions; what events carry; the shipped seed keeps
the rules and invents no contact."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from services.directory import domain
from services.directory.config import SHIPPED_SEED
from services.directory.seed import read
from shared import contracts
from shared.events import Envelope

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
ADMIN = {"user": "admin-1", "role": "admin"}
NAME = {"bn": "আল নূর ওভারসিজ", "en": "Al-Noor Overseas"}


def agency(**overrides):
    return {"name": NAME, "status": "valid", "valid_until": None, "address": None, "phone": None, "note": None,
            "last_checked": TODAY, "sources": [], **overrides}


def topic(**overrides):
    text = {"bn": "জিজ্ঞেস করুন", "en": "Ask"}
    return {"kind": "complaint", "title": text, "summary": text, "who_may_apply": text, "documents": [text],
            "forms": [{"title": text, "url": None}], "amounts": None, "time_limits": None, "where_to_go": [text],
            "note": None, "position": 0, "last_checked": TODAY, "sources": []}| overrides


@pytest.mark.parametrize("value, problems", [
    ({"bn": "রহিমা", "en": "Rahima"}, 0),
    ({"bn": "বিএমইটি (BMET)", "en": "BMET"}, 0),          # a Bangla text may name an English acronym
    ({"bn": "Rahima", "en": "Rahima"}, 1),               # an English copy in the Bangla place
    ({"bn": "রহিমা", "en": "রহিমা"}, 1),                 # a Bangla copy in the English place
    ({"bn": "১২৩", "en": "123"}, 2),                     # digits alone are no language
    ({"en": "Rahima"}, 1), ({"bn": "রহিমা"}, 1), ("Rahima", 1), (None, 1),
    ({"bn": "রহিমা", "en": "Rahima", "hi": "रहीमा"}, 1),
])
def test_a_bilingual_text_is_given_in_both_languages(value, problems):
    assert len(domain.bilingual_errors(value)) == problems


@pytest.mark.parametrize("raw, expected", [("RL-1234", "RL-1234"), ("rl 0123", "RL-123"), ("RL-১২৩", "RL-123"),
                                           ("123", None), ("RL-0", None), ("ABC-5", None)])
def test_a_licence_has_one_spelling(raw, expected):
    assert domain.entry_id(domain.AGENCY, raw) == expected


def test_country_codes_and_slugs():
    assert domain.entry_id(domain.COUNTRY, "sa") == "SA"
    assert domain.entry_id(domain.COUNTRY, "SAU") is None
    assert domain.entry_id(domain.LINK, "bdjobs") == "bdjobs"
    assert domain.entry_id(domain.TOPIC, "Passport") is None
    assert domain.entry_id(domain.TOPIC, "p") is None


def test_an_agency_keeps_the_rules():
    assert domain.check(domain.AGENCY, agency(), TODAY) == {}
    assert set(domain.check(domain.AGENCY, agency(status="blacklisted"), TODAY)) == {"status"}
    assert set(domain.check(domain.AGENCY, agency(last_checked=date(2026, 11, 29)), TODAY)) == {"last_checked"}
    assert set(domain.check(domain.AGENCY, agency(last_checked=None), TODAY)) == {"last_checked"}
    assert set(domain.check(domain.AGENCY, agency(name={"bn": "Al-Noor", "en": "Al-Noor"}), TODAY)) == {"name"}
    assert set(domain.check(domain.AGENCY, agency(address={"bn": "ঢাকা", "en": "ঢাকা"}), TODAY)) == {"address"}


def test_a_topic_and_a_country_keep_the_rules():
    assert domain.check(domain.TOPIC, topic(), TODAY) == {}
    errors = domain.check(domain.TOPIC, topic(kind="visa", documents=[{"bn": "x", "en": "x"}],
                                              forms=[{"title": {"bn": "", "en": "Form"}}]), TODAY)
    assert set(errors) == {"kind", "documents.0", "forms.0.title"}
    wing = {"phone": None, "email": None, "address": {"bn": "মাস্কাট", "en": "Muscat"}, "url": None}
    country = {"name": {"bn": "ওমান", "en": "Oman"}, "last_checked": TODAY,
               "mission": {"name": {"bn": "বাংলাদেশ দূতাবাস, মাস্কাট", "en": "Embassy of Bangladesh, Muscat"},
                           "labour_wing": wing}}
    assert domain.check(domain.COUNTRY, country, TODAY) == {}
    embassy = {**country["mission"], "name": {"bn": "Embassy", "en": "Embassy"}}
    assert set(domain.check(domain.COUNTRY, {**country, "mission": embassy}, TODAY)) == {"mission.name"}
    assert set(domain.check(domain.COUNTRY, {**country, "mission": None}, TODAY)) == {"mission.name"}


def test_versions_and_what_a_replace_keeps():
    record = domain.new_entry(domain.AGENCY, "RL-123", agency(), NOW, ADMIN)
    assert record["version"] == 1 and record["last_checked"] == "2026-11-28" and record["licence_no"] == 123
    assert {"a", "al", "n", "noor", "ও", "ওভারসিজ"} <= set(record["terms"])
    assert domain.same_content(domain.AGENCY, record, agency())
    later = domain.replaced(domain.AGENCY, record, agency(status="suspended"), NOW, {"user": "admin-2", "role": "admin"})
    assert later["version"] == 2 and later["created_at"] == record["created_at"] and later["status"] == "suspended"
    assert not domain.same_content(domain.AGENCY, later, agency())
    shown = domain.view(later)
    assert shown["licence_number"] == "RL-123" and shown["last_checked"] == TODAY
    assert not {"_id", "terms", "licence_no"} & set(shown)


def test_the_beginnings_of_each_word_find_a_name():
    terms = domain.search_terms({"bn": "নূর ট্রাভেলস", "en": "Noor Travels (Pvt.) Ltd."})
    assert {"n", "noor", "trav", "pvt", "ltd", "নূর", "ট্রা"} <= set(terms)
    assert domain.query_words("  NOOR, Travels ") == ["noor", "travels"]
    assert domain.query_words("Al-Noor (Pvt.)") == ["al", "noor", "pvt"]


@pytest.mark.parametrize("kind, record", [
    (domain.AGENCY, domain.new_entry(domain.AGENCY, "RL-123", agency(valid_until=date(2027, 1, 1)), NOW, ADMIN)),
    (domain.TOPIC, domain.new_entry(domain.TOPIC, "complaint", topic(), NOW, ADMIN)),
    (domain.LINK, domain.new_entry(domain.LINK, "bibhui", {"title": NAME, "url": None, "purpose": NAME,
                                                          "note": None, "last_checked": TODAY, "sources": []},
                                   NOW, ADMIN)),
    (domain.COUNTRY, domain.new_entry(domain.COUNTRY, "SA", {"name": NAME, "mission": {"name": NAME}, "note": None,
                                                             "last_checked": TODAY, "sources": []}, NOW, ADMIN)),
])
def test_each_event_matches_its_contract(kind, record):
    data = domain.event_data(kind, record, domain.CREATED, ADMIN)
    contracts.check(Envelope.new(type=domain.EVENT_TYPES[kind], source="directory", subject_type=kind,
                                 subject_id=record["_id"], aggregate_version=1, data=data))
    assert data[domain.ID_FIELDS[kind]] == record["_id"] and data["change"] == "created"


def test_the_shipped_seed_keeps_every_rule_and_invents_no_contact():
    entries = read(SHIPPED_SEED, TODAY)
    kinds = {kind for kind, _, _ in entries}
    assert kinds == {domain.COUNTRY, domain.LINK, domain.TOPIC}
    topics = {entry_id: content for kind, entry_id, content in entries if kind == domain.TOPIC}
    assert {c["kind"] for c in topics.values()} == {"complaint", "pkb_loan", "wewb_membership", "migration_paper"}
    assert {"passport", "police-clearance", "bmet-registration", "fingerprint", "smart-card", "training"} <= set(topics)
    for kind, entry_id, content in entries:
        assert content["last_checked"] <= TODAY
        if kind == domain.COUNTRY:  # no phone, email or address the reference does not give
            assert set(content["mission"]["labour_wing"].values()) == {None} and "ask" in content["note"]["en"].lower()
    links = {entry_id: content["url"] for kind, entry_id, content in entries if kind == domain.LINK}
    assert links == {"bdjobs": "https://bdjobs.com", "bideshjatra": "https://bideshjatra.gov.bd", "bibhui": None,
                     "bkttc": None, "muktopaath": "https://muktopaath.gov.bd"}
    raw = json.loads(SHIPPED_SEED.read_text(encoding="utf-8"))
    for section in raw.values():
        for entry in section:
            assert list(entry["title" if "title" in entry else "name"]) == ["bn", "en"]  # Bangla first
