"""The patterns the OpenAPI document publishes admit exactly what the fields accept:
every spelling a pattern admits is accepted, and nothing outside it is."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from marshmallow import ValidationError

from services.registration import schemas, spellings
from services.registration.api import SearchQuerySchema
from services.registration.reference_data import DISTRICTS, _DISTRICT_ALIASES
from services.registration.schemas import REFERENCE_FORMAT
from services.registration.validation import is_valid_reference
from shared.fields import Text

FIELDS = {
    "nid": schemas.MigrantCreateSchema._declared_fields["nid"],
    "birth_registration_number": schemas.MigrantCreateSchema._declared_fields["birth_registration_number"],
    "passport_number": schemas.MigrantCreateSchema._declared_fields["passport_number"],
    "phone": schemas.MigrantCreateSchema._declared_fields["phone"],
    "district": schemas.MigrantCreateSchema._declared_fields["district"],
    "destination_country": schemas.MigrantCreateSchema._declared_fields["destination_country"],
    "recruiting_agency_licence": schemas.MigrantCreateSchema._declared_fields["recruiting_agency_licence"],
    "reference": SearchQuerySchema._declared_fields["reference"],
    "name_en": schemas.MigrantCreateSchema._declared_fields["name_en"],
    "name_bn": schemas.MigrantCreateSchema._declared_fields["name_bn"],
    "note": schemas.StepSchema._declared_fields["note"],
    "number": schemas.MembershipSchema._declared_fields["number"],
}

# What people type, and what they get wrong: digits both scripts, letters both cases,
# separators, every kind of whitespace, control and look-alike characters.
NOISE = st.text(st.sampled_from(list("0123456789০১২৩৪৫৬৭৮৯+-() .'’/_PBRLrlAaBXxSsGgUuKkZz")
                                + ["\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\x0b", "\x1c", "\x85", "\u2028",
                                   "\x00", "\u200c", "ß", "Ｒ", "١", "র", "হ", "ি", "মা"[0], "ঁ", "়", "্", "৳"]),
                max_size=24)


def documented(field) -> dict:
    """The property the document shows for `field` (apispec's own conversion)."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin
    plugin = MarshmallowPlugin()
    APISpec(title="t", version="1", openapi_version="3.0.3", plugins=[plugin])
    return plugin.converter.field2property(field)


def accepts(field, text: str) -> bool:
    try:
        field.deserialize(text)
    except ValidationError:
        return False
    return True


def admits(prop: dict, text: str) -> bool:
    if prop.get("format") == REFERENCE_FORMAT and not is_valid_reference(text):
        return False  # the check character, which the format names and no pattern can state
    return (re.fullmatch(prop["pattern"], text) is not None
            and len(text) <= prop.get("maxLength", len(text)) and len(text) >= prop.get("minLength", 0))


@pytest.mark.parametrize("name", FIELDS)
@settings(max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_field_accepts_exactly_what_its_pattern_admits(name, data):
    field, prop = FIELDS[name], documented(FIELDS[name])
    text = data.draw(st.one_of(st.from_regex(prop["pattern"], fullmatch=True), NOISE, st.text(max_size=12)))
    assert accepts(field, text) == admits(prop, text), (name, text)


@pytest.mark.parametrize("name", ["nid", "phone", "passport_number", "recruiting_agency_licence", "district"])
def test_the_spellings_people_type_are_admitted(name):
    spelled = {"nid": ["1994123456789", "১৯৯৪ ১২৩৪ ৫৬৭৮৯", "1994-1234-56789"],
               "phone": ["01712-345678", "+880 1712 345678", "(+88) 01712345678", "০১৭১২৩৪৫৬৭৮", "008801712345678"],
               "passport_number": ["bx 0123456", "BX0123456", "A01234567"],
               "recruiting_agency_licence": ["RL-1234", "rl 0012", "RL1"],
               "district": ["Cumilla", "comilla", "COX'S BAZAR", "Coxs Bazar", "Chapai Nawabganj", "Narayangonj"]}
    for text in spelled[name]:
        assert admits(documented(FIELDS[name]), text) and accepts(FIELDS[name], text), text


def test_every_district_and_older_spelling_is_admitted():
    prop = documented(FIELDS["district"])
    for name in DISTRICTS | set(_DISTRICT_ALIASES):
        assert admits(prop, name) and admits(prop, name.upper()), name
    assert not admits(prop, "Atlantis") and not admits(prop, "")


def test_a_line_break_inside_a_number_is_refused_though_the_normaliser_would_drop_it():
    assert not accepts(FIELDS["nid"], "1994123\n456789")
    assert not accepts(FIELDS["phone"], "01712345678\n")


def test_text_length_is_judged_on_the_text_as_sent():
    field = Text(min_length=2, max_length=5)
    assert accepts(field, "ab") and not accepts(field, " a  ")  # one character besides spaces
    assert not accepts(field, " abcde")  # six as sent, though trimmed to five
    assert accepts(field, "a  b")


def test_patterns_use_only_syntax_every_regex_dialect_shares():
    for name in ("NID", "BIRTH_REGISTRATION", "PHONE", "PASSPORT", "LICENCE", "COUNTRY", "DISTRICT", "REFERENCE",
                 "BANGLA_NAME"):
        pattern = getattr(spellings, name)
        assert pattern.startswith("^") and pattern.endswith("$")
        assert not re.search(r"\\[dsSwWbB]|\(\?[=!<]", pattern), name
