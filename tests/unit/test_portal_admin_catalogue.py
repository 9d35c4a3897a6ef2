"""An administrator publishes the claim-type catalogue (services/portal/pages/admin_catalogue.py)
against the claims stand-in over real HTTP: the versions, a JSON draft started from the latest,
the service's own findings shown, If-Match on the latest version (412 named)."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.unit.test_portal_admin import sign_in, text
from tests.unit.test_portal_frame import portal


@pytest.fixture
def web(stub):
    stub.reset_catalogue()
    app, store = portal(stub)
    return app.test_client()


def draft(client) -> dict:
    html = text(client.get("/admin/catalogue"))
    return json.loads(unescape(re.search(r'<textarea id="f-document"[^>]*>(.*?)</textarea>', html, re.S).group(1)))


def publish(client, token, document, latest="1"):
    body = document if isinstance(document, str) else json.dumps(document)
    return client.post("/admin/catalogue", data={"csrf_token": token, "latest": latest, "document": body})


def test_only_an_admin_publishes(web):
    sign_in(web, "nasrin.akter", "kallyan-kormokorta-26")
    assert web.get("/admin/catalogue").status_code == 403


def test_the_versions_and_a_draft_from_the_latest_are_shown(web, stub):
    sign_in(web)
    html = text(web.get("/admin/catalogue"))
    assert "In force" in html and 'href="/admin/catalogue"' in text(web.get("/staff"))
    document = draft(web)
    assert set(document) == {"version", "effective_from", "types"}
    assert document["types"] == stub.catalogue_versions[0]["types"]


def test_a_new_version_is_published_with_if_match_on_the_latest(web, stub):
    token = sign_in(web)
    document = {**draft(web), "version": "2099-01-1", "effective_from": "2099-01-01"}
    response = publish(web, token, document)
    assert response.status_code == 201 and "Version 2099-01-1 is published" in text(response)
    assert len(stub.catalogue_versions) == 2
    post = [r for r in stub.requests if r["method"] == "POST" and "claim-types" in r["path"]][-1]
    assert post["if_match"] == '"1"'


def test_bad_json_and_the_services_findings_are_shown_and_the_text_kept(web, stub):
    token = sign_in(web)
    broken = publish(web, token, '{"version": "x",')
    assert broken.status_code == 422 and "This is not valid JSON (line 1" in text(broken)
    assert "{&#34;version&#34;: &#34;x&#34;," in text(broken)
    document = {**draft(web), "version": "2099-01-1", "effective_from": "2099-01-01", "types": [{"code": "x"}]}
    refused = publish(web, token, document)
    assert refused.status_code == 422 and "The service found:" in text(refused) and "<li>catalogue: " in text(refused)
    assert len(stub.catalogue_versions) == 1


def test_a_version_published_meanwhile_is_named(web, stub):
    token = sign_in(web)
    document = {**draft(web), "version": "2099-01-1", "effective_from": "2099-01-01"}
    assert publish(web, token, document).status_code == 201
    stale = publish(web, token, {**document, "version": "2099-02-1"}, latest="1")
    assert stale.status_code == 412 and "Another administrator published" in text(stale)
    assert len(stub.catalogue_versions) == 2
