"""The complaint lists as data (categories.json) and receipt numbers (services/complaints)."""
from __future__ import annotations

import json
import random

import pytest

from services.complaints import categories, receipts


def raw():
    return json.loads(categories.DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_shipped_lists_hold_the_issues_categories_channels_and_bodies_in_both_languages():
    lists = categories.load()
    for name, codes in categories.REQUIRED.items():
        assert set(codes) <= set(getattr(lists, name))
    assert all(e.name_bn.strip() and e.name_en.strip() for e in lists.categories.values())


@pytest.mark.parametrize("breakage, message", [
    (lambda r: r.pop("channels"), "`channels` must be a non-empty list"),
    (lambda r: r["categories"].append({"code": "Bad Code", "name_en": "x", "name_bn": "x"}), "snake_case"),
    (lambda r: r["categories"][0].update(name_bn=" "), "`name_bn` must be a non-empty string"),
    (lambda r: r["categories"].append(dict(r["categories"][0])), "listed twice"),
    (lambda r: r["referral_bodies"].pop(), "must include ngo"),
    (lambda r: r["channels"].append("online"), "code None"),
])
def test_lists_that_do_not_hold_together_stop_start_up_naming_where(breakage, message):
    data = raw()
    breakage(data)
    with pytest.raises(categories.CategoriesError, match=message):
        categories.parse(data)


def test_a_file_that_is_not_json_or_not_an_object_is_refused(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(categories.CategoriesError, match="cannot be read as JSON"):
        categories.load(bad)
    with pytest.raises(categories.CategoriesError, match="JSON object"):
        categories.parse([])


def test_a_receipt_number_is_easy_to_read_aloud_and_its_check_character_holds():
    number = receipts.new_receipt_number(random.Random(7))
    assert len(number) == 12 and number.startswith("CP-") and number[7] == "-"
    assert set(number[3:].replace("-", "")) <= set(receipts.ALPHABET)
    assert not set("01ILOU") & set(number[3:])
    assert receipts.normalise_receipt_number(number.lower().replace("-", " ")) == number


def test_every_single_mistyped_character_of_a_receipt_number_is_caught():
    number = receipts.new_receipt_number(random.Random(11))
    for position in (3, 4, 5, 6, 8, 9, 10, 11):
        for ch in receipts.ALPHABET:
            if ch != number[position]:
                typo = number[:position] + ch + number[position + 1:]
                with pytest.raises(ValueError, match="typo"):
                    receipts.normalise_receipt_number(typo)


@pytest.mark.parametrize("text", ["PB-2345-6789", "CP-2345-67", "CP-0000-0000", 42])
def test_what_is_not_a_receipt_number_is_refused(text):
    with pytest.raises(ValueError, match="CP-XXXX-XXXX|Must be text"):
        receipts.normalise_receipt_number(text)


def test_the_check_character_is_registrations_so_staff_read_both_numbers_the_same_way():
    from services.registration import validation
    rng = random.Random(3)
    assert receipts.ALPHABET == validation.REFERENCE_ALPHABET
    for _ in range(200):
        payload = "".join(rng.choice(receipts.ALPHABET) for _ in range(7))
        assert receipts.check_character(payload) == validation.check_character(payload)
