"""An administrator keeps the guide's agencies, countries, links and topics
(services/portal/pages/admin_guide.py) against the directory's stand-in over real HTTP: a form per
entry with both languages and its lists as rows, PUT with If-Match from the version shown, a stale
form (412) shown again with the entry as it is now, a new entry created without If-Match."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from shared import dates

from tests.unit.test_portal_admin import sign_in, text
from tests.unit.test_portal_frame import portal

AGENCY = "/admin/guide/agencies/RL-1234"


@pytest.fixture
def web(stub):
    stub.reset_guide()
    app, store = portal(stub)
    return app.test_client()


def agency_form(token, **changes) -> dict:
    form = {"csrf_token": token, "version": "1", "name.bn": "আল-নূর ওভারসিজ", "name.en": "Al-Noor Overseas",
            "status": "suspended", "valid_until": "2027-06-30", "address.bn": "", "address.en": "", "phone": "",
            "note.bn": "", "note.en": "", "last_checked": "2026-11-27"}
    return {**form, **changes}


def test_only_an_admin_edits_the_guide(web):
    assert web.get("/admin/guide").headers["Location"].startswith("/sign-in")
    sign_in(web, "selim.reza", "ainer-pothe-nirapod-26")
    assert web.get(AGENCY).status_code == 403


def test_the_list_shows_each_entry_and_when_it_was_last_checked(web):
    sign_in(web)
    html = text(web.get("/admin/guide"))
    assert 'href="/admin/guide/agencies/RL-1234"' in html and 'href="/admin/guide/links/bibhui"' in html
    assert "25 November 2026" in html and "Quick Visa Ltd &lt;b&gt;" in html
    assert html.count("<caption>Guide topics</caption>") == 1  # once, in the page: not also in its <title>
    assert 'href="/admin/guide"' in text(web.get("/staff"))


def test_an_entry_form_has_both_languages_side_by_side(web):
    sign_in(web)
    html = text(web.get(AGENCY))
    assert 'name="name.bn" type="text" value="আল-নূর ওভারসিজ" lang="bn"' in html
    assert 'name="name.en" type="text" value="Al-Noor Overseas" lang="en"' in html
    assert '<fieldset class="pair">' in html and 'name="version" value="1"' in html
    assert "Last checked: 25 November 2026" in html


def test_saving_sends_the_whole_entry_with_if_match(web, stub):
    token = sign_in(web)
    stub.agencies["RL-1234"]["sources"] = [{"title": "BMET licence list", "url": None}]
    response = web.post(AGENCY, data=agency_form(token))
    assert response.status_code == 200 and "Saved." in text(response)
    saved = stub.agencies["RL-1234"]
    assert saved["status"] == "suspended" and saved["last_checked"] == "2026-11-27" and saved["version"] == 2
    assert saved["address"] is None and saved["phone"] is None  # empty optional fields are "unknown"
    assert saved["sources"] == [{"title": "BMET licence list", "url": None}]  # carried as read
    put = [r for r in stub.requests if r["method"] == "PUT"][-1]
    assert put["if_match"] == '"1"' and put["authorization"].startswith("Bearer ")


def test_refused_fields_get_sentences_and_keep_what_was_typed(web, stub):
    token = sign_in(web)
    response = web.post(AGENCY, data=agency_form(token, **{"name.bn": "Al-Noor", "phone": "12", "note.bn": "নোট"}))
    html = text(response)
    assert response.status_code == 422
    assert 'id="e-f-name-bn">Write this in Bangla letters' in html and 'id="e-f-phone">A phone number' in html
    assert 'value="Al-Noor"' in html and stub.agencies["RL-1234"]["version"] == 1


def test_a_stale_form_shows_the_entry_as_it_is_now(web, stub):
    token = sign_in(web)
    stub.agencies["RL-1234"].update(version=3, status="cancelled")
    response = web.post(AGENCY, data=agency_form(token))
    html = text(response)
    assert response.status_code == 412 and "Someone else changed this entry" in html
    assert 'name="version" value="3"' in html and '<option value="cancelled" selected>' in html
    assert stub.agencies["RL-1234"]["status"] == "cancelled"


def test_a_link_is_edited_through_its_own_form(web, stub):
    token = sign_in(web)
    html = text(web.get("/admin/guide/links/bibhui"))
    assert 'name="purpose.en"' in html and 'name="url" type="text" value=""' in html
    response = web.post("/admin/guide/links/bibhui", data={
        "csrf_token": token, "version": "1", "title.bn": "বিভূঁই", "title.en": "Bibhui", "url": "https://bibhui.gov.bd",
        "purpose.bn": "প্রাক-বহির্গমন ওরিয়েন্টেশন", "purpose.en": "Pre-departure orientation", "note.bn": "",
        "note.en": "", "last_checked": "2026-11-28"})
    assert response.status_code == 200 and stub.links["bibhui"]["url"] == "https://bibhui.gov.bd"
    assert stub.links["bibhui"]["note"] is None


def test_an_unknown_entry_or_kind_is_a_plain_not_found(web):
    token = sign_in(web)
    assert web.get("/admin/guide/agencies/RL-9999").status_code == 404
    assert web.get("/admin/guide/planets/mars").status_code == 404
    assert web.post("/admin/guide/planets/mars", data={"csrf_token": token}).status_code == 404


def test_a_countrys_mission_and_labour_wing_are_edited_in_one_form(web, stub):
    token = sign_in(web)
    html = text(web.get("/admin/guide/countries/MY"))
    assert 'name="mission.name.bn"' in html and 'name="mission.labour_wing.phone" type="text" value=""' in html
    form = {"csrf_token": token, "version": "1", "name.bn": "মালয়েশিয়া", "name.en": "Malaysia",
            "mission.name.bn": "বাংলাদেশ হাইকমিশন, কুয়ালালামপুর", "mission.name.en": "Bangladesh High Commission",
            "mission.labour_wing.phone": "+60 3 2148 7940", "mission.labour_wing.email": "not-an-email",
            "mission.labour_wing.address.bn": "", "mission.labour_wing.address.en": "", "mission.labour_wing.url": "",
            "note.bn": "", "note.en": "", "last_checked": "2026-11-28"}
    refused = web.post("/admin/guide/countries/MY", data=form)
    assert refused.status_code == 422 and 'id="e-f-mission-labour_wing-email">An email address' in text(refused)
    saved = web.post("/admin/guide/countries/MY", data={**form, "mission.labour_wing.email": "labour.kl@example.org"})
    assert saved.status_code == 200
    wing = stub.countries["MY"]["mission"]["labour_wing"]
    assert wing == {"phone": "+60 3 2148 7940", "email": "labour.kl@example.org", "address": None, "url": None}
    assert stub.countries["MY"]["note"] is None


def test_a_topics_text_is_edited_and_lists_its_form_did_not_show_carried_as_read(web, stub):
    token = sign_in(web)
    stub.topics["complaint"].update(who_may_apply={"bn": "যেকোনো কর্মী", "en": "Any worker"},
                                    where_to_go=[{"bn": "বিএমইটি", "en": "BMET"}])
    html = text(web.get("/admin/guide/topics/complaint"))
    assert 'name="who_may_apply.en"' in html and "Any worker" in html
    response = web.post("/admin/guide/topics/complaint", data={
        "csrf_token": token, "version": "1", "kind": "complaint", "title.bn": "অভিযোগ করুন", "title.en": "Make a complaint",
        "summary.bn": "প্রতারণা বা বেতন না পেলে", "summary.en": "Fraud or unpaid wages",
        "who_may_apply.bn": "যেকোনো কর্মী", "who_may_apply.en": "Any worker or their family",
        "amounts.bn": "", "amounts.en": "", "time_limits.bn": "", "time_limits.en": "", "note.bn": "", "note.en": "",
        "last_checked": "2026-11-28"})
    assert response.status_code == 200
    topic = stub.topics["complaint"]
    assert topic["who_may_apply"]["en"] == "Any worker or their family" and topic["kind"] == "complaint"
    assert topic["where_to_go"] == [{"bn": "বিএমইটি", "en": "BMET"}] and topic["version"] == 2


# -- a topic's lists, new entries -----------------------------------------------------------------

TOPIC = "/admin/guide/topics/complaint"


def topic_form(token, **changes) -> dict:
    form = {"csrf_token": token, "version": "1", "kind": "complaint", "title.bn": "অভিযোগ করুন",
            "title.en": "Make a complaint", "summary.bn": "প্রতারণা বা বেতন না পেলে", "summary.en": "Fraud or unpaid wages",
            "who_may_apply.bn": "যেকোনো কর্মী", "who_may_apply.en": "Any worker", "amounts.bn": "", "amounts.en": "",
            "time_limits.bn": "", "time_limits.en": "", "note.bn": "", "note.en": "", "position": "3",
            "last_checked": "2026-11-28", "documents.rows": "3", "forms.rows": "2", "where_to_go.rows": "3",
            "sources.rows": "2"}
    return {**form, **changes}


def unlabelled(html: str) -> list:
    """Inputs, text areas and lists of choices that no <label for> names (hidden inputs aside)."""
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = re.findall(r'<(input|textarea|select)\b([^>]*)>', html)
    ids = [re.search(r'id="([^"]+)"', attrs) for tag, attrs in controls if 'type="hidden"' not in attrs]
    return [m.group(1) if m else "(no id)" for m in ids if not m or m.group(1) not in labelled]


def test_a_topics_form_has_its_lists_as_labelled_rows_and_today_as_last_checked(web, stub):
    stub.topics["complaint"]["where_to_go"] = [{"bn": "বিএমইটি", "en": "BMET"}]
    sign_in(web)
    html = text(web.get(TOPIC))
    assert 'name="where_to_go.rows" value="3"' in html and 'name="documents.rows" value="2"' in html
    assert '<textarea id="f-where_to_go-0-bn" name="where_to_go.0.bn" rows="2" lang="bn">বিএমইটি</textarea>' in html
    assert "Where to go" in html and "Place 1" in html and "Papers to bring" in html and "Form 1" in html
    assert 'name="forms.0.url"' in html and 'name="sources.0.title"' in html
    assert '<option value="complaint" selected>' in html and 'name="position"' in html
    today = dates.day_of(datetime.now(timezone.utc)).isoformat()
    assert f'name="last_checked" type="date" value="{today}"' in html  # saving says: checked today
    assert unlabelled(html) == []


def test_a_topics_lists_are_saved_rows_added_and_an_emptied_row_removed(web, stub):
    stub.topics["complaint"]["where_to_go"] = [{"bn": "বিএমইটি", "en": "BMET"}, {"bn": "ইউডিসি", "en": "UDC"}]
    token = sign_in(web)
    response = web.post(TOPIC, data=topic_form(token, **{
        "documents.0.bn": "পাসপোর্টের কপি", "documents.0.en": "Passport copy",
        "documents.2.bn": "চুক্তিপত্র", "documents.2.en": "The job contract",
        "forms.0.title.bn": "অভিযোগ ফরম", "forms.0.title.en": "Complaint form", "forms.0.url": "",
        "where_to_go.0.bn": "", "where_to_go.0.en": "", "where_to_go.1.bn": "ইউডিসি", "where_to_go.1.en": "UDC",
        "where_to_go.2.bn": "জেলা অফিস", "where_to_go.2.en": "District office",
        "sources.0.title": "BMET complaint rules", "sources.0.url": "https://www.bmet.gov.bd"}))
    assert response.status_code == 200 and "Saved." in text(response)
    topic = stub.topics["complaint"]
    assert topic["documents"] == [{"bn": "পাসপোর্টের কপি", "en": "Passport copy"},
                                  {"bn": "চুক্তিপত্র", "en": "The job contract"}]
    assert topic["forms"] == [{"title": {"bn": "অভিযোগ ফরম", "en": "Complaint form"}, "url": None}]
    assert topic["where_to_go"] == [{"bn": "ইউডিসি", "en": "UDC"}, {"bn": "জেলা অফিস", "en": "District office"}]
    assert topic["sources"] == [{"title": "BMET complaint rules", "url": "https://www.bmet.gov.bd"}]
    assert topic["position"] == 3 and topic["last_checked"] == "2026-11-28" and topic["version"] == 2
    html = text(response)  # the form again, with two empty rows more
    assert 'name="documents.rows" value="4"' in html


def test_a_refused_row_is_named_beside_that_row_and_what_was_typed_kept(web, stub):
    token = sign_in(web)
    response = web.post(TOPIC, data=topic_form(token, **{
        "documents.1.bn": "Passport copy", "documents.1.en": "Passport copy"}))  # row 0 empty: item 0 is row 1
    html = text(response)
    assert response.status_code == 422 and stub.topics["complaint"]["version"] == 1
    assert 'id="e-documents-1">Write the Bangla in Bangla letters' in html
    assert '<textarea id="f-documents-1-bn" name="documents.1.bn" rows="2" lang="bn">Passport copy</textarea>' in html


def test_a_new_topic_is_created_without_if_match_and_opens_as_added(web, stub):
    token = sign_in(web)
    html = text(web.get("/admin/guide/new/topics"))
    assert "Add a guide topic" in html and 'name="key"' in html and 'name="version"' not in html
    assert unlabelled(html) == []
    assert 'href="/admin/guide/new/topics"' in text(web.get("/admin/guide"))
    response = web.post("/admin/guide/new/topics", data=topic_form(token, key="Smart-Card", kind="migration_paper", **{
        "title.bn": "স্মার্ট কার্ড", "title.en": "Smart card", "documents.0.bn": "পাসপোর্ট", "documents.0.en": "Passport"}))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/guide/topics/smart-card?created=1")
    created = stub.topics["smart-card"]
    assert created["kind"] == "migration_paper" and created["version"] == 1
    assert created["documents"] == [{"bn": "পাসপোর্ট", "en": "Passport"}]
    put = [r for r in stub.requests if r["method"] == "PUT"][-1]
    assert put["if_match"] is None
    assert "Added. Readers see it now." in text(web.get(response.headers["Location"]))


def test_a_new_entry_that_exists_already_or_a_bad_key_is_said_plainly(web, stub):
    token = sign_in(web)
    form = {"csrf_token": token, "name.bn": "নতুন এজেন্সি", "name.en": "New Agency", "status": "valid",
            "valid_until": "", "address.bn": "", "address.en": "", "phone": "", "note.bn": "", "note.en": "",
            "last_checked": "2026-11-28", "sources.rows": "2"}
    exists = web.post("/admin/guide/new/agencies", data={**form, "key": "rl-1234"})
    assert exists.status_code == 409 and "There is already an entry RL-1234" in text(exists)
    assert stub.agencies["RL-1234"]["version"] == 1
    bad = web.post("/admin/guide/new/agencies", data={**form, "key": "not a licence"})
    assert bad.status_code == 422 and 'id="e-f-key">Licence number, for example RL-1234' in text(bad)
    made = web.post("/admin/guide/new/agencies", data={**form, "key": "RL-2001"})
    assert made.status_code == 302 and stub.agencies["RL-2001"]["name"]["en"] == "New Agency"
    assert web.get("/admin/guide/new/planets").status_code == 404
