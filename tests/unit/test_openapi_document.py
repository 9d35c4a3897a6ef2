"""What each service's OpenAPI document says matches what the service enforces: 415,
If-Match / 428, the enums, the date bounds relative to today; and /docs needs no CDN."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from marshmallow import ValidationError

from services.documents import schemas as documents_schemas
from services.documents.api import make_api as documents_api
from services.documents.config import DocumentsConfig
from services.documents.ports import Ports
from services.registration import schemas as registration_schemas
from services.registration.api import make_api as registration_api
from services.registration.reference_data import COUNTRIES, DISTRICTS
from shared.config import Settings
from shared.fields import date_bound
from shared.http.app import create_app
from tests import harness

TYPES = ("job_contract", "visa", "other")


def app_of(service: str):
    api = (registration_api(None) if service == "registration"
           else documents_api(Ports(None, None, None, None, config=DocumentsConfig(doc_types=TYPES))))
    return create_app(Settings(service=service, jwt_dev_key_file=harness.dev_key_file()), api, title=f"Probashi {service}", description="d", readiness={},
                      configure_logging=False)


@pytest.fixture(scope="module", params=["registration", "documents"])
def service(request):
    return request.param


@pytest.fixture(scope="module")
def document(service):
    return app_of(service).test_client().get("/openapi.json").json


def component(document, node):
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_operation_taking_a_body_documents_415(document):
    bodies = [(path, method, op) for path, method, op in operations(document) if "requestBody" in op]
    assert bodies
    for path, method, op in bodies:
        assert "415" in op["responses"], (method, path)


def test_a_patch_requires_if_match_and_documents_428_and_412():
    document = app_of("registration").test_client().get("/openapi.json").json
    patch = document["paths"]["/api/v1/migrants/{reference}"]["patch"]
    [if_match] = [p for p in patch["parameters"] if p["in"] == "header"]
    assert if_match["name"] == "If-Match" and if_match["required"] is True
    assert {"412", "428"} <= set(patch["responses"])


def test_districts_countries_and_document_types_are_enums():
    registration = app_of("registration").test_client().get("/openapi.json").json
    migrant = registration["components"]["schemas"]["Migrant"]["properties"]
    assert set(migrant["district"]["enum"]) == DISTRICTS and len(DISTRICTS) == 64
    assert set(migrant["destination_country"]["enum"]) == COUNTRIES
    documents = app_of("documents").test_client().get("/openapi.json").json
    upload = documents["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert component(documents, upload["schema"])["properties"]["doc_type"]["enum"] == list(TYPES)
    assert upload["encoding"]["file"]["contentType"] == documents_schemas.FILE_TYPES
    listing = documents["paths"]["/api/v1/migrants/{owner}/documents"]["get"]["parameters"]
    assert [p["schema"]["enum"] for p in listing if p["name"] == "doc_type"] == [list(TYPES)]


def test_identity_numbers_phone_and_passport_carry_their_patterns():
    registration = app_of("registration").test_client().get("/openapi.json").json
    create = registration["components"]["schemas"]["MigrantCreate"]
    for name in ("nid", "birth_registration_number", "passport_number", "phone", "district", "destination_country"):
        assert create["properties"][name]["pattern"].startswith("^"), name
    search = registration["paths"]["/api/v1/migrants"]["get"]["parameters"]
    assert {p["name"] for p in search if "pattern" in p["schema"]} >= {"passport", "nid", "phone",
                                                                        "birth_registration_number", "reference"}
    assert {"nid"} in [set(rule["required"]) for rule in create["anyOf"]]


TODAY = date(2028, 2, 29)  # a leap day: "15 years before" falls on the 28th


@pytest.mark.parametrize("schema, name, payload", [
    (registration_schemas.MigrantCreateSchema, "date_of_birth", {"name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন",
     "sex": "male", "nid": "1994123456789", "phone": "01712345678", "district": "Dhaka", "upazila": "Savar",
     "destination_country": "SA", "occupation": "Driver"}),
    (registration_schemas.StepSchema, "date", {"step": "visa", "reference": "V-1"}),
    (registration_schemas.MembershipSchema, "valid_until", {"number": "WEWB-1"}),
])
def test_documented_date_bounds_are_the_enforced_ones(schema, name, payload):
    field = schema._declared_fields[name]
    assert {"x-earliest", "x-latest"} & field.metadata.keys(), "the document states no bound"
    loads = lambda day: _loads(schema(today=TODAY), {**payload, name: day.isoformat()})
    for key, inside in (("x-earliest", 1), ("x-latest", -1)):
        if key in field.metadata:
            bound = date_bound(field.metadata[key], TODAY)
            assert loads(bound) and not loads(bound - timedelta(days=inside)), (key, bound)


def test_issue_dates_are_bounded_as_documented(monkeypatch):
    field = documents_schemas.VersionFormSchema._declared_fields["issue_date"]
    monkeypatch.setattr(documents_schemas, "today_in_bangladesh", lambda: TODAY)
    loads = lambda day: _loads(documents_schemas.VersionFormSchema(), {"file": None, "issue_date": day.isoformat()},
                               partial=("file",))
    earliest, latest = (date_bound(field.metadata[key], TODAY) for key in ("x-earliest", "x-latest"))
    assert loads(earliest) and not loads(earliest - timedelta(days=1))
    assert loads(latest) and not loads(latest + timedelta(days=1))


def test_only_the_documented_date_shape_is_a_date():
    field = registration_schemas.StepSchema._declared_fields["date"]
    assert field.deserialize("2024-01-31")
    for other in ("20240131", "2024-W05-3", "2024-1-31"):
        with pytest.raises(ValidationError):
            field.deserialize(other)


def _loads(schema, payload, partial=None) -> bool:
    try:
        schema.load({k: v for k, v in payload.items() if v is not None}, partial=partial)
    except ValidationError as error:
        return not any(key in error.messages for key in ("date_of_birth", "date", "valid_until", "issue_date"))
    return True


def test_docs_page_loads_nothing_from_outside(service):
    http = app_of(service).test_client()
    page = http.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), html
    assets = re.findall(r"(?:src|href)=\"(/[^\"]+)\"", html)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js", "/openapi.json"} <= set(assets)
    for asset in assets:
        answer = http.get(asset)
        assert answer.status_code == 200 and len(answer.data) > 20, asset
    assert "SwaggerUIBundle" in http.get("/docs/swagger-ui-bundle.js").get_data(as_text=True)[:100000]
    assert http.get("/docs/swagger-ui.js.map").status_code == 404  # only what the page uses


def test_answers_document_the_headers_a_client_needs():
    registration = app_of("registration").test_client().get("/openapi.json").json["paths"]
    migrant = "/api/v1/migrants/{reference}"
    for path, method, status in ((migrant, "get", "200"), (migrant, "patch", "200"), ("/api/v1/migrants", "post", "201"),
                                 (migrant + "/steps", "post", "200"), (migrant + "/membership", "post", "200")):
        assert "ETag" in registration[path][method]["responses"][status]["headers"], (method, path)
    assert "Location" in registration["/api/v1/migrants"]["post"]["responses"]["201"]["headers"]
    documents = app_of("documents").test_client().get("/openapi.json").json["paths"]
    for path in ("/api/v1/documents", "/api/v1/documents/{document_id}/versions"):
        assert "Location" in documents[path]["post"]["responses"]["201"]["headers"], path
    for path, _, op in operations(registration | documents):
        if "503" in op["responses"] and path.startswith("/api/"):
            assert "Retry-After" in op["responses"]["503"]["headers"]
        if "401" in op["responses"]:
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]


def operations(paths_or_document):
    paths = paths_or_document.get("paths", paths_or_document)
    for path, methods in paths.items():
        for method, operation in methods.items():
            yield path, method, operation


def test_a_change_may_not_clear_both_identity_numbers_as_the_document_says():
    document = app_of("registration").test_client().get("/openapi.json").json
    rule = document["components"]["schemas"]["MigrantUpdate"]["not"]
    assert set(rule["required"]) == {"nid", "birth_registration_number"}
    with pytest.raises(ValidationError) as refused:
        registration_schemas.MigrantUpdateSchema().load({"nid": None, "birth_registration_number": None})
    assert list(refused.value.messages) == ["nid"]
    assert registration_schemas.MigrantUpdateSchema().load({"nid": None}) == {"nid": None}
