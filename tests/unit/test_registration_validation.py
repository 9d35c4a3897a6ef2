import random
import re
from datetime import date

import pytest

from services.registration import reference_data as ref
from services.registration import validation as v


def rejects(normalise, text):
    with pytest.raises(ValueError) as caught:
        normalise(text)
    assert str(caught.value)  # a message fit to show the operator


# --- phone ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "01712345678", "8801712345678", "+880 1712-345678", "+8801712345678",
    "+88 01712345678", "008801712345678", " 017-1234-5678 ", "(+880) 1712 345678",
    "০১৭১২৩৪৫৬৭৮",  # typed on a Bangla keyboard
])
def test_phone_accepted_forms_become_e164(text):
    assert v.normalise_phone(text) == "+8801712345678"


@pytest.mark.parametrize("operator", "3456789")
def test_phone_accepts_every_mobile_operator_digit(operator):
    assert v.normalise_phone(f"01{operator}12345678") == f"+8801{operator}12345678"


@pytest.mark.parametrize("text", [
    "", "01212345678", "01012345678", "0171234567", "017123456789", "1712345678",
    "+880 01712345678", "+8811712345678", "+44 7700 900123", "0171234567x",
    "029661234",  # a Dhaka landline
    "٠١٧١٢٣٤٥٦٧٨",  # Arabic-Indic digits: \d would have matched these
    "+880.1712.345678",
])
def test_phone_rejected_forms(text):
    rejects(v.normalise_phone, text)


def test_phone_rejects_non_text():
    rejects(v.normalise_phone, 1712345678)


# --- NID / birth registration --------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1234567890", "1234567890"),
    ("123 456 7890", "1234567890"),
    ("1234567890123", "1234567890123"),
    ("19901234567890123", "19901234567890123"),
    ("1990-1234-5678-90123", "19901234567890123"),
    ("১২৩৪৫৬৭৮৯০", "1234567890"),
])
def test_nid_accepted(text, expected):
    assert v.normalise_nid(text) == expected


@pytest.mark.parametrize("text", ["", "123456789", "12345678901", "123456789012",
                                  "1234567890123456", "123456789012345678", "12345A7890", "1234567890.0"])
def test_nid_rejected(text):
    rejects(v.normalise_nid, text)


def test_birth_registration_accepted():
    assert v.normalise_birth_registration("2001 2612 3456 78901") == "20012612345678901"


@pytest.mark.parametrize("text", ["", "1234567890", "2001261234567890", "200126123456789012", "2001261234567890X"])
def test_birth_registration_rejected(text):
    rejects(v.normalise_birth_registration, text)


# --- passport ------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("BX0123456", "BX0123456"),
    ("A01234567", "A01234567"),
    (" bx 0123456 ", "BX0123456"),
    ("EB12345678", "EB12345678"),
    ("a1234567", "A1234567"),
])
def test_passport_accepted(text, expected):
    assert v.normalise_passport(text) == expected


@pytest.mark.parametrize("text", ["", "123456789", "ABC1234567", "B123456", "B123456789",
                                  "BX-0123456", "BX01234S6", "ß1234567", "БX0123456"])
def test_passport_rejected(text):
    rejects(v.normalise_passport, text)


# --- recruiting-agency licence ------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("RL-1234", "RL-1234"), ("rl 1234", "RL-1234"), ("RL1234", "RL-1234"),
    (" Rl - 0099 ", "RL-99"), ("RL-7", "RL-7"), ("RL-99999", "RL-99999"),
])
def test_licence_accepted(text, expected):
    assert v.normalise_licence(text) == expected


@pytest.mark.parametrize("text", ["", "RL-", "RL-0", "RL-123456", "R-1234", "1234", "RLX1234", "RL-12a"])
def test_licence_rejected(text):
    rejects(v.normalise_licence, text)


# --- Bangla names --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "রহিম উদ্দিন", "মো. করিম", "আব্দুল-করিম", "শাহ্‌জালাল",
    "র\u200d্যাব",  # ya-phala needs a zero-width joiner
    "ড়", "ৎ",
])
def test_bangla_names_accepted(text):
    assert v.is_bangla_name(text)


@pytest.mark.parametrize("text", [
    "", " ", ". -", "Rahim", "রহিম Uddin", "১২৩", "রহিম১", "রহিম৳", "রহিম_উদ্দিন",
    "रहीम",  # Devanagari
    "রহিম\u0984",  # unassigned code point inside the Bengali block
    None, 123,
])
def test_non_bangla_names_rejected(text):
    assert not v.is_bangla_name(text)


# --- district / country --------------------------------------------------

def test_there_are_64_districts_in_official_spelling():
    assert len(ref.DISTRICTS) == 64
    for name in ("Cox's Bazar", "Chattogram", "Cumilla", "Barishal", "Bogura", "Jashore",
                 "Chapai Nawabganj", "Dhaka", "Sylhet"):
        assert name in ref.DISTRICTS
    for old in ("Chittagong", "Comilla", "Barisal", "Bogra", "Jessore"):
        assert old not in ref.DISTRICTS


@pytest.mark.parametrize("text, expected", [
    ("Chittagong", "Chattogram"), ("Comilla", "Cumilla"), ("Barisal", "Barishal"),
    ("Bogra", "Bogura"), ("Jessore", "Jashore"), ("chittagong", "Chattogram"),
    ("CHATTOGRAM", "Chattogram"), ("  dhaka ", "Dhaka"), ("cox's bazar", "Cox's Bazar"),
    ("Coxs Bazar", "Cox's Bazar"), ("COX\u2019S BAZAR", "Cox's Bazar"),
    ("Chapainawabganj", "Chapai Nawabganj"), ("Sirajgonj", "Sirajganj"),
    ("Moulvi Bazar", "Moulvibazar"), ("Netrakona", "Netrokona"),
])
def test_district_lookup(text, expected):
    assert v.normalise_district(text) == expected


def test_every_district_finds_itself():
    assert all(ref.find_district(name) == name for name in ref.DISTRICTS)


@pytest.mark.parametrize("text", ["", "Atlantis", "Dhaka1", "Kolkata", None])
def test_unknown_district_rejected(text):
    rejects(v.normalise_district, text)


def test_countries_are_the_249_iso_codes():
    assert len(ref.COUNTRIES) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in ref.COUNTRIES)
    assert {"BD", "SA", "AE", "QA", "OM", "KW", "MY", "SG", "GB", "IT"} <= ref.COUNTRIES
    assert "XK" not in ref.COUNTRIES and "UK" not in ref.COUNTRIES


@pytest.mark.parametrize("text, expected", [("sa", "SA"), (" ae ", "AE"), ("UK", "GB"), ("gb", "GB")])
def test_country_accepted(text, expected):
    assert v.normalise_country(text) == expected


@pytest.mark.parametrize("text", ["", "S", "SAU", "ZZ", "XK", "Saudi Arabia", "S4"])
def test_country_rejected(text):
    rejects(v.normalise_country, text)


# --- other reference data ------------------------------------------------

def test_pre_departure_steps_in_journey_order_with_labels():
    assert ref.PRE_DEPARTURE_STEPS == ("bmet_registration", "fingerprint", "training_certificate",
                                       "medical_fitness", "visa", "emigration_clearance")
    assert set(ref.PRE_DEPARTURE_STEP_LABELS) == set(ref.PRE_DEPARTURE_STEPS)
    for label in ref.PRE_DEPARTURE_STEP_LABELS.values():
        assert label["en"].isascii() and label["en"]
        assert any("\u0980" <= ch <= "\u09ff" for ch in label["bn"])


def test_sexes():
    assert ref.SEXES == ("male", "female", "third_gender")


# --- dates ---------------------------------------------------------------

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize("born", [date(2010, 6, 15), date(1960, 1, 1), date(1900, 1, 2)])
def test_plausible_birth_dates(born):
    assert v.check_date_of_birth(born, TODAY) == born


@pytest.mark.parametrize("born, message", [
    (date(2030, 1, 1), "past"), (TODAY, "past"), (date(2010, 6, 16), "15 years"),
    (date(1900, 1, 1), "1900"), (date(1850, 5, 5), "1900"),
])
def test_implausible_birth_dates(born, message):
    with pytest.raises(ValueError, match=message):
        v.check_date_of_birth(born, TODAY)


def test_fifteenth_birthday_of_someone_born_on_29_february():
    assert v.years_before(date(2024, 2, 29), 15) == date(2009, 2, 28)
    assert v.check_date_of_birth(date(2009, 2, 28), date(2024, 2, 29))


def test_future_and_not_future():
    assert v.check_not_future(TODAY, TODAY) == TODAY
    rejects(lambda d: v.check_not_future(d, TODAY), date(2025, 6, 16))
    assert v.check_future(date(2025, 6, 16), TODAY)
    rejects(lambda d: v.check_future(d, TODAY), TODAY)


# --- migrant references --------------------------------------------------

REFERENCE = re.compile(r"PB-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}")


def test_alphabet_has_nothing_ambiguous():
    assert len(v.REFERENCE_ALPHABET) == len(set(v.REFERENCE_ALPHABET)) == 30
    assert not set("01ILOU") & set(v.REFERENCE_ALPHABET)


def test_new_references_are_well_formed_and_valid():
    rng = random.Random(7)
    for _ in range(500):
        reference = v.new_reference(rng)
        assert REFERENCE.fullmatch(reference)
        assert v.is_valid_reference(reference)
    assert REFERENCE.fullmatch(v.new_reference())  # default: secrets


def test_same_seed_same_reference():
    assert v.new_reference(random.Random(3)) == v.new_reference(random.Random(3))


@pytest.mark.parametrize("typed", ["PB-7KQ3-M9XC", "pb-7kq3-m9xc", "PB7KQ3M9XC", " pb 7kq3 m9xc "])
def test_reference_normalised_from_how_it_is_typed(typed):
    assert v.normalise_reference(typed) == "PB-7KQ3-M9XC"
    assert v.is_valid_reference(typed)


@pytest.mark.parametrize("text", ["", "PB-7KQ3-M9X", "PB-7KQ3-M9XCC", "XB-7KQ3-M9XC", "PB-7KQ3-M9X0",
                                  "PB-7KQ3-M9XD", None, 42])
def test_malformed_references_are_invalid(text):
    assert not v.is_valid_reference(text)


def test_every_single_character_substitution_is_detected():
    rng = random.Random(11)
    for _ in range(25):
        reference = v.new_reference(rng)
        body_positions = [i for i, ch in enumerate(reference) if i > 2 and ch != "-"]
        for i in body_positions + [0, 1]:
            for replacement in v.REFERENCE_ALPHABET + "PB01ILOU":
                if replacement == reference[i]:
                    continue
                typo = reference[:i] + replacement + reference[i + 1:]
                assert not v.is_valid_reference(typo), (reference, typo)


def test_most_swaps_of_neighbouring_characters_are_detected():
    rng = random.Random(5)
    swaps = detected = 0
    for _ in range(300):
        body = v.new_reference(rng).replace("-", "")[2:]
        for i in range(len(body) - 1):
            if body[i] != body[i + 1]:
                swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
                swaps += 1
                detected += not v.is_valid_reference("PB" + swapped)
    assert detected / swaps > 0.98


def test_reference_typo_message_differs_from_format_message():
    with pytest.raises(ValueError, match="typo"):
        v.normalise_reference("PB-7KQ3-M9XD")
    with pytest.raises(ValueError, match="PB-XXXX-XXXX"):
        v.normalise_reference("PB-7KQ3")
