"""Reference lists the registration rules check against.

Kept as data, apart from the rules, so a correction (a renamed district, a new ISO code)
is an edit here and nowhere else.
"""
from __future__ import annotations

from types import MappingProxyType

SEXES = ("male", "female", "third_gender")

# The 64 districts, in the English spellings the government adopted in 2018.
DISTRICTS = frozenset({
    # Barishal division
    "Barguna", "Barishal", "Bhola", "Jhalokati", "Patuakhali", "Pirojpur",
    # Chattogram division
    "Bandarban", "Brahmanbaria", "Chandpur", "Chattogram", "Cox's Bazar", "Cumilla",
    "Feni", "Khagrachhari", "Lakshmipur", "Noakhali", "Rangamati",
    # Dhaka division
    "Dhaka", "Faridpur", "Gazipur", "Gopalganj", "Kishoreganj", "Madaripur", "Manikganj",
    "Munshiganj", "Narayanganj", "Narsingdi", "Rajbari", "Shariatpur", "Tangail",
    # Khulna division
    "Bagerhat", "Chuadanga", "Jashore", "Jhenaidah", "Khulna", "Kushtia", "Magura",
    "Meherpur", "Narail", "Satkhira",
    # Mymensingh division
    "Jamalpur", "Mymensingh", "Netrokona", "Sherpur",
    # Rajshahi division
    "Bogura", "Chapai Nawabganj", "Joypurhat", "Naogaon", "Natore", "Pabna", "Rajshahi",
    "Sirajganj",
    # Rangpur division
    "Dinajpur", "Gaibandha", "Kurigram", "Lalmonirhat", "Nilphamari", "Panchagarh",
    "Rangpur", "Thakurgaon",
    # Sylhet division
    "Habiganj", "Moulvibazar", "Sunamganj", "Sylhet",
})

# Each district's name in Bangla, for pages read in Bangla (GET /api/v1/districts).
DISTRICT_NAMES_BN = MappingProxyType({
    "Bagerhat": "বাগেরহাট", "Bandarban": "বান্দরবান", "Barguna": "বরগুনা", "Barishal": "বরিশাল",
    "Bhola": "ভোলা", "Bogura": "বগুড়া", "Brahmanbaria": "ব্রাহ্মণবাড়িয়া", "Chandpur": "চাঁদপুর",
    "Chapai Nawabganj": "চাঁপাইনবাবগঞ্জ", "Chattogram": "চট্টগ্রাম", "Chuadanga": "চুয়াডাঙ্গা",
    "Cox's Bazar": "কক্সবাজার", "Cumilla": "কুমিল্লা", "Dhaka": "ঢাকা", "Dinajpur": "দিনাজপুর",
    "Faridpur": "ফরিদপুর", "Feni": "ফেনী", "Gaibandha": "গাইবান্ধা", "Gazipur": "গাজীপুর",
    "Gopalganj": "গোপালগঞ্জ", "Habiganj": "হবিগঞ্জ", "Jamalpur": "জামালপুর", "Jashore": "যশোর",
    "Jhalokati": "ঝালকাঠি", "Jhenaidah": "ঝিনাইদহ", "Joypurhat": "জয়পুরহাট", "Khagrachhari": "খাগড়াছড়ি",
    "Khulna": "খুলনা", "Kishoreganj": "কিশোরগঞ্জ", "Kurigram": "কুড়িগ্রাম", "Kushtia": "কুষ্টিয়া",
    "Lakshmipur": "লক্ষ্মীপুর", "Lalmonirhat": "লালমনিরহাট", "Madaripur": "মাদারীপুর", "Magura": "মাগুরা",
    "Manikganj": "মানিকগঞ্জ", "Meherpur": "মেহেরপুর", "Moulvibazar": "মৌলভীবাজার", "Munshiganj": "মুন্সীগঞ্জ",
    "Mymensingh": "ময়মনসিংহ", "Naogaon": "নওগাঁ", "Narail": "নড়াইল", "Narayanganj": "নারায়ণগঞ্জ",
    "Narsingdi": "নরসিংদী", "Natore": "নাটোর", "Netrokona": "নেত্রকোণা", "Nilphamari": "নীলফামারী",
    "Noakhali": "নোয়াখালী", "Pabna": "পাবনা", "Panchagarh": "পঞ্চগড়", "Patuakhali": "পটুয়াখালী",
    "Pirojpur": "পিরোজপুর", "Rajbari": "রাজবাড়ী", "Rajshahi": "রাজশাহী", "Rangamati": "রাঙ্গামাটি",
    "Rangpur": "রংপুর", "Satkhira": "সাতক্ষীরা", "Shariatpur": "শরীয়তপুর", "Sherpur": "শেরপুর",
    "Sirajganj": "সিরাজগঞ্জ", "Sunamganj": "সুনামগঞ্জ", "Sylhet": "সিলেট", "Tangail": "টাঙ্গাইল",
    "Thakurgaon": "ঠাকুরগাঁও",
})


def district_list() -> list[dict]:
    """What GET /districts answers: each district as stored, with its Bangla name."""
    return [{"name": name, "name_bn": bn} for name, bn in sorted(DISTRICT_NAMES_BN.items())]


# Older or common alternative spellings still printed on many NIDs and certificates.
# Spacing, punctuation and case never matter (see _district_key), nor "gonj" for "ganj".
_DISTRICT_ALIASES = {
    "Chittagong": "Chattogram", "Comilla": "Cumilla", "Barisal": "Barishal",
    "Bogra": "Bogura", "Jessore": "Jashore", "Cox Bazar": "Cox's Bazar",
    "Jhalakati": "Jhalokati", "Jhalokathi": "Jhalokati", "Jhalakathi": "Jhalokati",
    "Khagrachari": "Khagrachhari", "Laxmipur": "Lakshmipur", "Lakshipur": "Lakshmipur",
    "Netrakona": "Netrokona", "Maulvibazar": "Moulvibazar", "Hobiganj": "Habiganj",
    "Jaipurhat": "Joypurhat", "Narshingdi": "Narsingdi", "Jhenaidaha": "Jhenaidah",
    "Panchagar": "Panchagarh", "Kishorganj": "Kishoreganj", "Mymensing": "Mymensingh",
}


def _district_key(text: str) -> str:
    key = "".join(ch for ch in text.casefold() if ch.isalnum())
    return key.replace("gonj", "ganj")


_DISTRICT_BY_KEY = MappingProxyType({
    **{_district_key(alias): name for alias, name in _DISTRICT_ALIASES.items()},
    **{_district_key(name): name for name in DISTRICTS},
})


def find_district(text: str) -> str | None:
    """The canonical district name for `text` (any case, old spelling), or None."""
    return _DISTRICT_BY_KEY.get(_district_key(text))


# All 249 officially assigned ISO 3166-1 alpha-2 codes (user-assigned XK is not one).
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# "UK" is what operators type for the United Kingdom; ISO reserves it for GB.
COUNTRY_ALIASES = MappingProxyType({"UK": "GB"})

# In the order a migrant goes through them before departure.
PRE_DEPARTURE_STEPS = (
    "bmet_registration",
    "fingerprint",
    "training_certificate",
    "medical_fitness",
    "visa",
    "emigration_clearance",
)

PRE_DEPARTURE_STEP_LABELS = MappingProxyType({
    "bmet_registration": MappingProxyType(
        {"en": "BMET registration", "bn": "বিএমইটি নিবন্ধন"}),
    "fingerprint": MappingProxyType(
        {"en": "Fingerprint enrolment", "bn": "আঙুলের ছাপ প্রদান"}),
    "training_certificate": MappingProxyType(
        {"en": "Pre-departure training certificate", "bn": "প্রাক-বহির্গমন প্রশিক্ষণ সনদ"}),
    "medical_fitness": MappingProxyType(
        {"en": "Medical fitness certificate", "bn": "মেডিকেল ফিটনেস সনদ"}),
    "visa": MappingProxyType(
        {"en": "Visa", "bn": "ভিসা"}),
    "emigration_clearance": MappingProxyType(
        {"en": "Emigration clearance (smart card)", "bn": "বহির্গমন ছাড়পত্র (স্মার্ট কার্ড)"}),
})
