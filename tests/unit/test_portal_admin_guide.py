"""An administrator keeps the guide's agencies and links (services/portal/pages/admin_guide.py)
against the directory's stand-in over real HTTP: a form per entry with both languages, PUT with
If-Match from the version shown, a stale form (412) shown again with the entry as it is now."""
from __future__ import annotations

import pytest

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


def test_a_topics_text_is_edited_and_its_lists_carried_as_read(web, stub):
    token = sign_in(web)
    stub.topics["complaint"].update(who_may_apply={"bn": "যেকোনো কর্মী", "en": "Any worker"},
                                    where_to_go=[{"bn": "বিএমইটি", "en": "BMET"}])
    html = text(web.get("/admin/guide/topics/complaint"))
    assert 'name="who_may_apply.en"' in html and "Any worker" in html
    response = web.post("/admin/guide/topics/complaint", data={
        "csrf_token": token, "version": "1", "title.bn": "অভিযোগ করুন", "title.en": "Make a complaint",
        "summary.bn": "প্রতারণা বা বেতন না পেলে", "summary.en": "Fraud or unpaid wages",
        "who_may_apply.bn": "যেকোনো কর্মী", "who_may_apply.en": "Any worker or their family",
        "amounts.bn": "", "amounts.en": "", "time_limits.bn": "", "time_limits.en": "", "note.bn": "", "note.en": "",
        "last_checked": "2026-11-28"})
    assert response.status_code == 200
    topic = stub.topics["complaint"]
    assert topic["who_may_apply"]["en"] == "Any worker or their family" and topic["kind"] == "complaint"
    assert topic["where_to_go"] == [{"bn": "বিএমইটি", "en": "BMET"}] and topic["version"] == 2
