"""What demo people are made of: Bangla and English names, the districts most migrants come
from with some of their upazilas, destination countries, occupations and recruiting agencies.

The directory's seed has no agencies (no licence is published where it was taken from), so
the agencies here are made up, consistently, and say so: their licences are in the RL-90xxx
range and their names end in "(demo)".
"""
from __future__ import annotations

# (English, Bangla)
MALE_NAMES = (
    ("Abdul", "আব্দুল"), ("Rafiq", "রফিক"), ("Kamal", "কামাল"), ("Jamal", "জামাল"), ("Shahid", "শহীদ"),
    ("Nurul", "নুরুল"), ("Habib", "হাবিব"), ("Mizanur", "মিজানুর"), ("Sohel", "সোহেল"), ("Rubel", "রুবেল"),
    ("Alamgir", "আলমগীর"), ("Monir", "মনির"), ("Jahangir", "জাহাঙ্গীর"), ("Anwar", "আনোয়ার"), ("Faruk", "ফারুক"),
    ("Selim", "সেলিম"), ("Masud", "মাসুদ"), ("Imran", "ইমরান"), ("Sumon", "সুমন"), ("Delwar", "দেলোয়ার"),
)
FEMALE_NAMES = (
    ("Rahima", "রহিমা"), ("Amena", "আমেনা"), ("Nasrin", "নাসরিন"), ("Shirin", "শিরিন"), ("Rokeya", "রোকেয়া"),
    ("Salma", "সালমা"), ("Jesmin", "জেসমিন"), ("Fatema", "ফাতেমা"), ("Hasina", "হাসিনা"), ("Moriom", "মরিয়ম"),
    ("Shahana", "শাহানা"), ("Kulsum", "কুলসুম"), ("Parveen", "পারভীন"), ("Rina", "রিনা"), ("Laily", "লাইলী"),
)
MALE_SURNAMES = (
    ("Mia", "মিয়া"), ("Hossain", "হোসেন"), ("Islam", "ইসলাম"), ("Uddin", "উদ্দিন"), ("Ahmed", "আহমেদ"),
    ("Rahman", "রহমান"), ("Sarker", "সরকার"), ("Molla", "মোল্লা"), ("Sheikh", "শেখ"), ("Bhuiyan", "ভূঁইয়া"),
)
FEMALE_SURNAMES = (
    ("Begum", "বেগম"), ("Akter", "আক্তার"), ("Khatun", "খাতুন"), ("Sultana", "সুলতানা"), ("Parvin", "পারভিন"),
)

# District (registration's official spelling) -> upazilas; weighted towards where most migrants come from.
DISTRICTS = {
    "Cumilla": ("Daudkandi", "Debidwar", "Chauddagram", "Muradnagar"),
    "Chattogram": ("Sitakunda", "Anwara", "Satkania", "Raozan"),
    "Brahmanbaria": ("Nabinagar", "Sarail", "Bancharampur"),
    "Tangail": ("Mirzapur", "Ghatail", "Kalihati"),
    "Noakhali": ("Begumganj", "Senbagh", "Chatkhil"),
    "Chandpur": ("Hajiganj", "Matlab Uttar", "Kachua"),
    "Sylhet": ("Beanibazar", "Golapganj", "Bishwanath"),
    "Dhaka": ("Dohar", "Nawabganj", "Keraniganj"),
    "Munshiganj": ("Sreenagar", "Lohajang"),
    "Kishoreganj": ("Bhairab", "Kuliarchar"),
    "Feni": ("Chhagalnaiya", "Daganbhuiyan"),
    "Lakshmipur": ("Ramganj", "Raipur"),
    "Narsingdi": ("Raipura", "Belabo"),
    "Moulvibazar": ("Rajnagar", "Kulaura"),
    "Gazipur": ("Kaliakair", "Sreepur"),
    "Jashore": ("Jhikargachha", "Sharsha"),
}

# ISO code -> weight (roughly where Bangladeshi workers go).
COUNTRIES = {"SA": 30, "AE": 12, "MY": 12, "OM": 10, "QA": 8, "KW": 6, "SG": 6, "BH": 4, "JO": 4, "LB": 2,
             "IT": 3, "GB": 3}
COUNTRY_NAMES = {"SA": "Saudi Arabia", "AE": "the UAE", "MY": "Malaysia", "OM": "Oman", "QA": "Qatar",
                 "KW": "Kuwait", "SG": "Singapore", "BH": "Bahrain", "JO": "Jordan", "LB": "Lebanon",
                 "IT": "Italy", "GB": "the United Kingdom"}
EMPLOYERS = ("Al-Rashid Contracting", "Gulf Star Cleaning Services", "Medina Home Services", "Sunrise Plantations",
             "Crescent Building Co.", "Harbour Logistics", "Oasis Hotel Group", "Desert Rose Facilities")

OCCUPATIONS_MALE = ("Construction worker", "Driver", "Cleaner", "Factory worker", "Electrician", "Plumber",
                    "Agricultural worker", "Hotel staff", "Welder", "Mason")
OCCUPATIONS_FEMALE = ("Domestic worker", "Garment worker", "Cleaner", "Caregiver", "Hotel staff")

# Licence -> name: made up, marked demo (see the module docstring).
AGENCIES = {
    "RL-90001": "Al-Noor Overseas (demo)",
    "RL-90002": "Sonar Bangla Manpower (demo)",
    "RL-90003": "Padma Recruiting Agency (demo)",
    "RL-90004": "Meghna International (demo)",
    "RL-90005": "Green Crescent Overseas (demo)",
    "RL-90006": "Jamuna Human Resources (demo)",
    "RL-90007": "Karnaphuli Travels and Recruiting (demo)",
    "RL-90008": "Surma Overseas Services (demo)",
}

# The staff the demo's tokens speak for (subjects only: identity has no accounts for them). The
# `dev-` ones are who `make token` speaks for, so a developer with such a token owns some cases.
OFFICERS = ("dev-welfare_officer", "demo.kamal.hossain", "demo.nasrin.akter")
LEGAL_AID = ("dev-legal_aid", "demo.selim.reza", "demo.farhana.islam")
ADMIN = "demo.admin"
