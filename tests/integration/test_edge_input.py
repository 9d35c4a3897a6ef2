"""Hostile request bodies and query strings against the real services: a clear 4xx
problem+json naming what is wrong, never a 500, and nothing stored."""
from __future__ import annotations


import pytest

from services.documents import api as documents_api
from services.documents.config import DocumentsConfig
from services.documents.bootstrap import unit_of_work as documents_unit_of_work
from services.documents.consumer import consumer as documents_consumer
from services.registration import api as registration_api
from shared import mongo
from shared.auth import issue_token
from shared.events import Envelope

pytestmark = pytest.mark.integration

REF = "PB-2345-6789"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20
MIGRANT = {"name_en": "Rahima Begum", "name_bn": "রহিমা বেগম", "date_of_birth": "1994-02-01", "sex": "female",
           "nid": "19941234567890123", "passport_number": "BX0123456", "phone": "01712-345678",
           "district": "Comilla", "upazila": "Daudkandi", "destination_country": "SA", "occupation": "Domestic worker"}
LONE_SURROGATE = "\\ud800"  # as JSON spells it: valid JSON, but no UTF-8 can encode it
# How a lone surrogate arrives outside JSON: its (invalid) UTF-8 bytes.
SURROGATE_BYTES = b"\xed\xa0\x80"


def bearer(settings, role="admin", **claims) -> dict:
    centre = "UDC Daudkandi" if role == "udc_operator" else None
    return {"Authorization": f"Bearer {issue_token(settings, subject=f'{role}-1', role=role, udc_centre=centre, **claims)}"}


@pytest.fixture
def registration(infra):
    settings = infra.settings("registration")
    app = registration_api.create(settings, configure_logging=False)
    return app.test_client(), settings, mongo.database(settings)


@pytest.fixture
def vault(infra):
    settings = infra.settings("documents")
    app = documents_api.create(settings, configure_logging=False, config=DocumentsConfig(max_bytes=1024 * 1024))
    documents_consumer.process(documents_unit_of_work(settings), Envelope.new(
        type="registration.migrant.registered", source="registration", subject_type="migrant", subject_id=REF,
        aggregate_version=1, data={"reference": REF}))
    return app.test_client(), settings, mongo.database(settings)


def stored(db) -> int:
    return sum(db[name].count_documents({}) for name in ("migrants", "documents", "records", "content.files", "outbox"))


def not_utf8(errors: dict, field: str) -> bool:
    return "UTF-8" in str(errors[field])


def problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == "application/problem+json"
    return response.json


def multipart(parts: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body from (Content-Disposition parameters, content) pairs, bytes as given."""
    boundary = b"edge-test-boundary"
    body = b"".join(b"--" + boundary + b"\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\n"
                    + content + b"\r\n" for disposition, content in parts)
    return body + b"--" + boundary + b"--\r\n", f"multipart/form-data; boundary={boundary.decode()}"


def upload(client, settings, parts):
    body, content_type = multipart(parts)
    return client.post("/api/v1/documents", data=body, content_type=content_type,
                       headers=bearer(settings, "udc_operator"))


GOOD_PARTS = [(b'name="owner"', REF.encode()), (b'name="doc_type"', b"job_contract"),
              (b'name="file"; filename="contract.pdf"', PDF)]


def test_a_well_formed_upload_is_accepted(vault):
    client, settings, db = vault
    assert upload(client, settings, GOOD_PARTS).status_code == 201


# -- multipart limits ------------------------------------------------------------------------

def test_thousands_of_parts_are_refused_as_too_large_before_they_are_parsed(vault):
    client, settings, db = vault
    response = upload(client, settings, GOOD_PARTS + [(f'name="p{n}"'.encode(), b"x") for n in range(5000)])
    assert problem(response, 413)["type"].endswith(":too-large")
    assert stored(db) == 0


def test_an_oversized_text_part_is_refused_as_too_large(vault):
    client, settings, db = vault
    response = upload(client, settings, [(b'name="issuer"', b"x" * 200_000), *GOOD_PARTS])
    assert problem(response, 413)["type"].endswith(":too-large")
    assert stored(db) == 0


def test_a_second_file_part_is_refused_not_dropped(vault):
    client, settings, db = vault
    response = upload(client, settings, GOOD_PARTS + [(b'name="file"; filename="other.pdf"', PDF)])
    assert "file" in problem(response, 422)["errors"]
    assert stored(db) == 0


def test_a_repeated_text_field_is_refused_not_dropped(vault):
    client, settings, db = vault
    response = upload(client, settings, [(b'name="owner"', REF.encode()), *GOOD_PARTS])
    assert "owner" in problem(response, 422)["errors"]
    assert stored(db) == 0


# -- deeply nested JSON ------------------------------------------------------------------------

DEEP = [b"[" * n + b"]" * n for n in (1_000, 100_000)] + [b'{"a":' * 5_000 + b"1" + b"}" * 5_000]


@pytest.mark.parametrize("body", DEEP, ids=["1000-lists", "100000-lists", "5000-objects"])
def test_deeply_nested_json_is_malformed_not_a_crash(registration, body):
    client, settings, db = registration
    for method, path in (("POST", "/migrants"), ("PATCH", f"/migrants/{REF}"), ("POST", f"/migrants/{REF}/steps")):
        response = client.open(f"/api/v1{path}", method=method, data=body, content_type="application/json",
                               headers={**bearer(settings), "If-Match": '"1"'})
        assert problem(response, 400)["type"].endswith(":malformed-json"), path
    assert stored(db) == 0


def test_deeply_nested_json_is_malformed_in_the_documents_service_too(vault):
    client, settings, db = vault
    response = client.post("/api/v1/documents/DOC-AAAAAAAAAAAA/verification", data=DEEP[0],
                           content_type="application/json", headers=bearer(settings, "welfare_officer"))
    assert problem(response, 400)["type"].endswith(":malformed-json")


# -- lone surrogates -----------------------------------------------------------------------------

def json_with_surrogate(field: str) -> bytes:
    import json
    return json.dumps({**MIGRANT, field: "X"}, ensure_ascii=False).replace('"X"', f'"Ra{LONE_SURROGATE}him"').encode()


@pytest.mark.parametrize("field", ["name_en", "occupation", "upazila", "udc_centre"])
def test_a_lone_surrogate_in_a_json_field_is_refused_by_name(registration, field):
    client, settings, db = registration
    response = client.post("/api/v1/migrants", data=json_with_surrogate(field), content_type="application/json",
                           headers=bearer(settings, "udc_operator"))
    assert response.status_code in (400, 422), response.data[:300]
    assert not_utf8(problem(response, response.status_code)["errors"], field)
    assert stored(db) == 0


def test_a_lone_surrogate_in_a_json_key_or_nested_value_is_refused(registration, vault):
    client, settings, _ = registration
    response = client.post("/api/v1/migrants", data=b'{"name_\\udfff": 1}', content_type="application/json",
                           headers=bearer(settings, "udc_operator"))
    assert response.status_code in (400, 422) and response.mimetype == "application/problem+json"
    client, settings, _ = vault
    body = b'{"decision": "rejected", "version": 1, "reason": "blurred ' + LONE_SURROGATE.encode() + b' scan"}'
    response = client.post("/api/v1/documents/DOC-AAAAAAAAAAAA/verification", data=body,
                           content_type="application/json", headers=bearer(settings, "welfare_officer"))
    assert not_utf8(problem(response, 422)["errors"], "reason")


def test_a_surrogate_in_the_query_string_is_refused_by_name(vault):
    client, settings, _ = vault
    response = client.get(f"/api/v1/migrants/{REF}/documents?doc_type=%ED%A0%80", headers=bearer(settings))
    assert not_utf8(problem(response, 422)["errors"], "doc_type")


def test_a_surrogate_in_a_multipart_field_or_filename_is_refused_by_name(vault):
    client, settings, db = vault
    response = upload(client, settings, [(b'name="issuer"', b"Al-Noor " + SURROGATE_BYTES), *GOOD_PARTS])
    assert not_utf8(problem(response, 422)["errors"], "issuer")
    sneaky_name = [(b"name=\"file\"; filename*=UTF-8''c%ED%A0%80.pdf", PDF)]
    response = upload(client, settings, GOOD_PARTS[:2] + sneaky_name)
    assert not_utf8(problem(response, 422)["errors"], "file")
    assert stored(db) == 0
