"""The patterns the OpenAPI document publishes admit exactly what the fields accept:
every spelling a pattern admits is accepted, and nothing outside it is."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from marshmallow import ValidationError

from services.complaints import schemas as complaints
from services.registration import schemas, spellings
from services.registration.api import SearchQuerySchema
from services.registration.reference_data import DISTRICTS, _DISTRICT_ALIASES
from services.registration.schemas import REFERENCE_FORMAT
from services.registration.validation import is_valid_reference
from shared import spellings as shared_spellings
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
    # complaints takes phones and licences by the same rule (shared.spellings)
    "complainant_phone": complaints.ComplainantSchema._declared_fields["phone"],
    "sub_agent_phone": complaints.RespondentSchema._declared_fields["phone"],
    "agency_licence": complaints.RespondentSchema._declared_fields["licence"],
    "sub_agent_phone_filter": complaints.ListQuerySchema._declared_fields["sub_agent_phone"],
    "agency_licence_filter": complaints.ListQuerySchema._declared_fields["agency_licence"],
    "queue_agency_licence_filter": complaints.DueQueueQuerySchema._declared_fields["agency_licence"],
}
COMPLAINTS_PHONES = ("complainant_phone", "sub_agent_phone", "sub_agent_phone_filter")
COMPLAINTS_LICENCES = ("agency_licence", "agency_licence_filter", "queue_agency_licence_filter")

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


PHONES = ["01712-345678", "+880 1712 345678", "+88 01712 345678", "(+88) 01712345678", "০১৭১২৩৪৫৬৭৮",
          "008801712345678"]
# Complaints also takes a licence's number alone (it always has); registration wants the RL.
COMPLAINTS_LICENCE_SPELLINGS = ["RL-1234", "RL 1234", "rl-1234", "rl 0012", "RL1", "1234", "০০১২"]


@pytest.mark.parametrize("name", ["nid", "phone", "passport_number", "recruiting_agency_licence", "district",
                                  *COMPLAINTS_PHONES, *COMPLAINTS_LICENCES])
def test_the_spellings_people_type_are_admitted(name):
    spelled = {"nid": ["1994123456789", "১৯৯৪ ১২৩৪ ৫৬৭৮৯", "1994-1234-56789"],
               "phone": PHONES,
               "passport_number": ["bx 0123456", "BX0123456", "A01234567"],
               "recruiting_agency_licence": ["RL-1234", "rl 0012", "RL1"],
               "district": ["Cumilla", "comilla", "COX'S BAZAR", "Coxs Bazar", "Chapai Nawabganj", "Narayangonj"],
               **dict.fromkeys(COMPLAINTS_PHONES, PHONES),
               **dict.fromkeys(COMPLAINTS_LICENCES, COMPLAINTS_LICENCE_SPELLINGS)}
    for text in spelled[name]:
        assert admits(documented(FIELDS[name]), text) and accepts(FIELDS[name], text), text


def test_every_district_and_older_spelling_is_admitted():
    prop = documented(FIELDS["district"])
    for name in DISTRICTS | set(_DISTRICT_ALIASES):
        assert admits(prop, name) and admits(prop, name.upper()), name
    assert not admits(prop, "Atlantis") and not admits(prop, "")


def test_a_line_break_inside_a_number_is_refused_though_the_normaliser_would_drop_it():
    assert not accepts(FIELDS["nid"], "1994123\n456789")
    for name in ("phone", *COMPLAINTS_PHONES):
        assert not accepts(FIELDS[name], "01712345678\n") and not accepts(FIELDS[name], "01712\n345678"), name
    for name in ("recruiting_agency_licence", *COMPLAINTS_LICENCES):
        assert not accepts(FIELDS[name], "RL\n1234"), name


@pytest.mark.parametrize("name", COMPLAINTS_PHONES)
def test_complaints_publishes_registrations_phone_rule_and_stores_one_spelling(name):
    assert documented(FIELDS[name])["pattern"] == documented(FIELDS["phone"])["pattern"]
    for text in PHONES:
        assert FIELDS[name].deserialize(text) == "+8801712345678", text


@pytest.mark.parametrize("name", COMPLAINTS_LICENCES)
def test_complaints_takes_registrations_licences_and_the_bare_number_too(name):
    for text in ["RL-1234", "RL 1234", "rl-1234", " Rl - 01234 ", "1234", "১২৩৪"]:
        assert FIELDS[name].deserialize(text) == "RL-1234", text
    for text in ["RL-0", "0", "RL-123456", "R-1234", "RLX1234", "RL-12a", "ABC-1"]:
        assert not accepts(FIELDS[name], text), text


@settings(max_examples=100, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.from_regex(documented(FIELDS["recruiting_agency_licence"])["pattern"], fullmatch=True))
def test_every_licence_registration_takes_complaints_takes_as_the_same_licence(text):
    assume(accepts(FIELDS["recruiting_agency_licence"], text))  # not too long
    registered = FIELDS["recruiting_agency_licence"].deserialize(text)
    assert all(FIELDS[name].deserialize(text) == registered for name in COMPLAINTS_LICENCES)


def test_text_length_is_judged_on_the_text_as_sent():
    field = Text(min_length=2, max_length=5)
    assert accepts(field, "ab") and not accepts(field, " a  ")  # one character besides spaces
    assert not accepts(field, " abcde")  # six as sent, though trimmed to five
    assert accepts(field, "a  b")


def test_patterns_use_only_syntax_every_regex_dialect_shares():
    for name in ("NID", "BIRTH_REGISTRATION", "PHONE", "PASSPORT", "LICENCE", "COUNTRY", "DISTRICT", "REFERENCE",
                 "BANGLA_NAME"):
        pattern = getattr(spellings, name)
        _in_the_shared_dialect(name, pattern)
    for name in ("PHONE", "LICENCE", "LICENCE_OR_NUMBER"):
        _in_the_shared_dialect(name, getattr(shared_spellings, name))


def _in_the_shared_dialect(name: str, pattern: str) -> None:
    assert pattern.startswith("^") and pattern.endswith("$")
    assert not re.search(r"\\[dsSwWbB]|\(\?[=!<]", pattern), name
