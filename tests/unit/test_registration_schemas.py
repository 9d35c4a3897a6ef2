import json
from datetime import date, datetime, timedelta, timezone

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import ValidationError

from services.registration import schemas as s

TODAY = date(2025, 6, 15)


def valid_payload(**changes):
    payload = {
        "name_en": "  Rahim   Uddin ",
        "name_bn": "রহিম উদ্দিন",
        "date_of_birth": "1995-04-12",
        "sex": "male",
        "nid": "1995 2612 3456 78901",
        "passport_number": "bx 0123456",
        "phone": "+880 1712-345678",
        "district": "chittagong",
        "upazila": "Hathazari",
        "destination_country": "sa",
        "occupation": "Construction worker",
        "recruiting_agency_licence": "rl 1234",
        "udc_centre": "Fatikchhari UDC",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


def errors_of(schema, payload):
    with pytest.raises(ValidationError) as caught:
        schema.load(payload)
    return caught.value.messages


def create_errors(**changes):
    return errors_of(s.MigrantCreateSchema(today=TODAY), valid_payload(**changes))


# --- MigrantCreateSchema -------------------------------------------------

def test_valid_registration_loads_normalised():
    loaded = s.MigrantCreateSchema(today=TODAY).load(valid_payload())
    assert loaded == {
        "name_en": "Rahim Uddin",
        "name_bn": "রহিম উদ্দিন",
        "date_of_birth": date(1995, 4, 12),
        "sex": "male",
        "nid": "19952612345678901",
        "passport_number": "BX0123456",
        "phone": "+8801712345678",
        "district": "Chattogram",
        "upazila": "Hathazari",
        "destination_country": "SA",
        "occupation": "Construction worker",
        "recruiting_agency_licence": "RL-1234",
        "udc_centre": "Fatikchhari UDC",
    }
    assert type(loaded) is dict


def test_birth_registration_alone_is_enough():
    payload = valid_payload(nid=..., birth_registration_number="2001 2612 3456 78901",
                            passport_number=..., recruiting_agency_licence=..., udc_centre=...)
    loaded = s.MigrantCreateSchema(today=TODAY).load(payload)
    assert loaded["birth_registration_number"] == "20012612345678901"
    assert "nid" not in loaded and "udc_centre" not in loaded


def test_missing_both_identity_numbers_is_reported_under_nid():
    assert create_errors(nid=...) == {"nid": ["Give an NID or a birth registration number."]}


def test_null_identity_numbers_count_as_missing():
    assert create_errors(nid=None) == {"nid": ["Give an NID or a birth registration number."]}
    loaded = s.MigrantCreateSchema(today=TODAY).load(
        valid_payload(nid=None, birth_registration_number="20012612345678901", passport_number=None))
    assert loaded["nid"] is None and loaded["passport_number"] is None


def test_invalid_nid_reports_only_its_own_error():
    assert create_errors(nid="12345") == {"nid": ["NID must be 10, 13 or 17 digits."]}


@pytest.mark.parametrize("field, value", [
    # wrong types
    ("name_en", 5), ("name_bn", ["রহিম"]), ("date_of_birth", 19950412), ("sex", True),
    ("phone", 1712345678), ("nid", 1234567890), ("district", {"name": "Dhaka"}),
    ("destination_country", None), ("udc_centre", 7),
    # bad values
    ("date_of_birth", "12/04/1995"), ("date_of_birth", "1995-02-30"),
    ("sex", "m"), ("name_bn", "Rahim Uddin"), ("name_en", "R"), ("name_en", "Rahim\x00Uddin"), ("upazila", "Hat\x1chazari"),
    ("nid", "12345678901"), ("birth_registration_number", "1234"),
    ("passport_number", "123456789"), ("passport_number", "BX012345"),
    ("phone", "01212345678"), ("phone", "+44 7700 900123"),
    ("district", "Atlantis"), ("destination_country", "KSA"),
    ("recruiting_agency_licence", "1234"), ("upazila", "H"), ("occupation", ""),
    # over-long strings
    ("name_en", "R" * 101), ("name_bn", "র" * 101), ("upazila", "H" * 61),
    ("occupation", "o" * 81), ("udc_centre", "u" * 81), ("phone", "0" * 21),
    ("nid", "1" * 31), ("passport_number", "B" * 21),
])
def test_bad_field_is_named(field, value):
    errors = create_errors(**{field: value})
    assert list(errors) == [field], errors


@pytest.mark.parametrize("born, message", [
    ("2030-01-01", "past"), ("2025-06-15", "past"), ("2012-01-01", "15 years"), ("1899-12-31", "1900"),
])
def test_implausible_date_of_birth(born, message):
    [error] = create_errors(date_of_birth=born)["date_of_birth"]
    assert message in error


def test_unknown_field_is_refused():
    assert create_errors(surname="Uddin") == {"surname": ["Unknown field."]}


@pytest.mark.parametrize("field", ["name_en", "name_bn", "date_of_birth", "sex", "phone", "district",
                                   "upazila", "destination_country", "occupation"])
def test_required_fields(field):
    assert field in create_errors(**{field: ...})


def test_every_problem_is_reported_at_once():
    errors = create_errors(nid=..., phone="123", passport_number="X", date_of_birth="2030-01-01", extra=1)
    assert set(errors) == {"nid", "phone", "passport_number", "date_of_birth", "extra"}


def test_non_object_input_is_one_schema_error():
    assert errors_of(s.MigrantCreateSchema(), ["not", "an", "object"]) == {"_schema": ["Invalid input type."]}


def test_default_today_is_dhakas():
    from shared.fields import BANGLADESH_TIME
    assert BANGLADESH_TIME.utcoffset(None) == timedelta(hours=6)
    now_in_dhaka = datetime.now(timezone(timedelta(hours=6))).date()
    assert s.today_in_bangladesh() in {now_in_dhaka, now_in_dhaka + timedelta(days=1)}
    tomorrow = (s.today_in_bangladesh() + timedelta(days=1)).isoformat()
    assert "date_of_birth" in errors_of(s.MigrantCreateSchema(), valid_payload(date_of_birth=tomorrow))


# --- MigrantUpdateSchema -------------------------------------------------

def test_update_takes_any_single_field_normalised():
    schema = s.MigrantUpdateSchema(today=TODAY)
    assert schema.load({"phone": "01812345678"}) == {"phone": "+8801812345678"}
    assert schema.load({"district": "Comilla", "passport_number": "a01234567"}) == {
        "district": "Cumilla", "passport_number": "A01234567"}


def test_update_may_clear_an_optional_field():
    assert s.MigrantUpdateSchema().load({"passport_number": None}) == {"passport_number": None}
    assert "phone" in errors_of(s.MigrantUpdateSchema(), {"phone": None})


def test_update_must_change_something():
    assert errors_of(s.MigrantUpdateSchema(), {}) == {"_schema": ["Give at least one field to change."]}


def test_update_cannot_set_udc_centre():
    assert errors_of(s.MigrantUpdateSchema(), {"udc_centre": "X UDC"}) == {"udc_centre": ["Unknown field."]}


def test_update_still_checks_values():
    errors = errors_of(s.MigrantUpdateSchema(today=TODAY),
                       {"nid": "1", "date_of_birth": "2020-01-01", "name_bn": "Rahim"})
    assert set(errors) == {"nid", "date_of_birth", "name_bn"}


# --- StepSchema / MembershipSchema --------------------------------------

def test_step_loads():
    loaded = s.StepSchema(today=TODAY).load(
        {"step": "medical_fitness", "date": "2025-06-15", "reference": " GAMCA-1234 ", "note": " fit \n ok "})
    assert loaded == {"step": "medical_fitness", "date": TODAY, "reference": "GAMCA-1234", "note": "fit \n ok"}
    assert s.StepSchema(today=TODAY).load({"step": "visa", "date": "2025-01-01", "reference": "V", "note": None})


@pytest.mark.parametrize("field, value", [
    ("step", "departure"), ("date", "2025-06-16"), ("date", "soon"), ("reference", ""),
    ("reference", "r" * 61), ("note", "n" * 501), ("recorded_by", "me"),
])
def test_bad_step_field_is_named(field, value):
    payload = {"step": "visa", "date": "2025-06-01", "reference": "V-1", field: value}
    assert list(errors_of(s.StepSchema(today=TODAY), payload)) == [field]


def test_membership_loads():
    loaded = s.MembershipSchema(today=TODAY).load({"number": "WEWB/2025-0042", "valid_until": "2027-06-14"})
    assert loaded == {"number": "WEWB/2025-0042", "valid_until": date(2027, 6, 14)}


@pytest.mark.parametrize("field, value", [
    ("number", "AB"), ("number", "N" * 41), ("number", "WEWB 12"), ("number", "WEWB_12"),
    ("valid_until", "2025-06-15"), ("valid_until", "2020-01-01"),
])
def test_bad_membership_field_is_named(field, value):
    payload = {"number": "WEWB-1", "valid_until": "2027-01-01", field: value}
    assert list(errors_of(s.MembershipSchema(today=TODAY), payload)) == [field]


# --- responses -----------------------------------------------------------

def stored_migrant():
    at = datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)
    return {
        "reference": "PB-7KQ3-M9XC", "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন",
        # BSON has no date type: dates come back as ISO strings or datetimes.
        "date_of_birth": "1995-04-12", "sex": "male", "nid": "1234567890",
        "birth_registration_number": None, "passport_number": "BX0123456", "phone": "+8801712345678",
        "district": "Chattogram", "upazila": "Hathazari", "destination_country": "SA",
        "occupation": "Construction worker", "recruiting_agency_licence": None,
        "pre_departure_steps": {"visa": {"date": datetime(2025, 5, 1), "reference": "V-1", "note": None,
                                         "recorded_by": "u1", "recorded_at": at}},
        "wewb_membership": {"number": "WEWB-1", "valid_until": date(2027, 1, 1),
                            "activated_by": "u2", "activated_at": at},
        "registered_by": {"user": "u1", "role": "udc_operator", "udc_centre": "Fatikchhari UDC", "at": at},
        "version": 2, "created_at": at, "updated_at": at,
        "_id": "internal",  # never leaks: dump only writes declared fields
    }


def test_migrant_dumps_iso_dates():
    dumped = s.MigrantSchema().dump(stored_migrant())
    assert dumped["date_of_birth"] == "1995-04-12"
    assert dumped["pre_departure_steps"]["visa"]["date"] == "2025-05-01"
    assert dumped["created_at"].startswith("2025-06-01T09:30:00")
    assert dumped["wewb_membership"]["valid_until"] == "2027-01-01"
    assert dumped["nid"] == "1234567890" and dumped["birth_registration_number"] is None
    assert dumped["registered_by"]["udc_centre"] == "Fatikchhari UDC"
    assert "_id" not in dumped


def test_migrant_without_membership_dumps_null():
    assert s.MigrantSchema().dump({**stored_migrant(), "wewb_membership": None})["wewb_membership"] is None


def test_page_schema_is_one_class_per_item_schema():
    assert s.page_schema(s.MigrantSchema) is s.MigrantPageSchema
    assert s.MigrantPageSchema.__name__ == "MigrantPageSchema"
    page = s.HistoryPageSchema().dump({"items": [{"event_id": "e1", "type": "migrant.registered",
                                                  "occurred_at": datetime(2025, 6, 1), "summary": "Registered"}],
                                       "next_cursor": None})
    assert page == {"items": [{"event_id": "e1", "type": "migrant.registered",
                               "occurred_at": "2025-06-01T00:00:00", "summary": "Registered"}],
                    "next_cursor": None}


# --- OpenAPI -------------------------------------------------------------

def openapi_components():
    spec = APISpec(title="Probashi", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    for name, schema in s.SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    return spec.to_dict()["components"]["schemas"]


def test_every_schema_converts_to_openapi():
    components = openapi_components()
    assert set(components) == set(s.SCHEMAS)
    assert set(s.SCHEMAS) >= {"MigrantCreate", "MigrantUpdate", "Step", "Membership", "Migrant",
                              "HistoryEntry", "MigrantPage", "HistoryPage"}


def test_openapi_references_resolve():
    components = openapi_components()

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    assert set(refs(components)) <= set(components)


def test_openapi_carries_the_rules():
    components = openapi_components()
    create = components["MigrantCreate"]
    assert "phone" in create["required"] and "nid" not in create["required"]
    assert create["additionalProperties"] is False
    assert create["properties"]["name_en"]["maxLength"] == 100
    assert create["properties"]["sex"]["enum"] == ["male", "female", "third_gender"]
    assert "required" not in components["MigrantUpdate"]
    assert "udc_centre" not in components["MigrantUpdate"]["properties"]
    # apispec versions spell a nullable $ref differently (allOf / anyOf); both say nullable.
    assert '"nullable": true' in json.dumps(components["Migrant"]["properties"]["wewb_membership"])
