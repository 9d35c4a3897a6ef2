"""Who the demo people are and where each of their cases ends: no I/O, the same for the same
seed (each person from their own random stream, `<seed>-<number>`, so `--migrants 30` after
`--migrants 25` is the same 25 people and five more).

Every second person has a welfare claim and two in three a complaint. The first claims and
complaints go through every status a case can rest in, one each, so any run of at least
`MIN_FOR_EVERY_STATE` people has them all; later ones are drawn with weights like a working
office's (more closed than in enforcement). A claim's `submitted` is not among them: filing
answers `documents_pending` or `under_review` at once (claims/domain.py `new_claim`), so no
claim ever rests there.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from services.claims import domain as claims
from services.complaints import domain as complaints

from . import people

# Where a claim can end, and how often beyond the first round (weights).
CLAIM_TARGETS = {
    claims.DOCUMENTS_PENDING: 14, claims.UNDER_REVIEW: 12, claims.AWAITING_INFORMATION: 6, claims.RECOMMENDED: 4,
    claims.APPROVED: 6, claims.REJECTED: 8, claims.REVIEW_REQUESTED: 3, claims.PAYMENT_ORDERED: 6, claims.PAID: 10,
    claims.CLOSED: 25, claims.WITHDRAWN: 6,
}
COMPLAINT_TARGETS = {
    complaints.RECEIVED: 8, complaints.SCRUTINY: 6, complaints.ACKNOWLEDGED: 6, complaints.NOTICE_TO_RESPONDENT: 6,
    complaints.HEARING: 10, complaints.SETTLED: 3, complaints.AWARD_ISSUED: 3, complaints.DISMISSED: 3,
    complaints.REFERRED: 4, complaints.COMPLIANCE_MONITORING: 8, complaints.COMPLIED: 4, complaints.NOT_COMPLIED: 3,
    complaints.ENFORCEMENT: 2, complaints.CLOSED: 25, complaints.WITHDRAWN: 6, complaints.REOPENED: 2,
}
# Every second person has a claim, two in three a complaint: 23 people give 12 and 16.
MIN_FOR_EVERY_STATE = 23

# What each claim type needs in the vault (services/claims/catalogue.json).
CLAIM_PAPERS = {"medical_aid": ("passport_copy", "medical_report", "emigration_clearance"),
                "death_grant": ("passport_copy", "death_certificate", "heirship_certificate")}
# A claim that waits on its papers (or went on from there) is missing one of them.
_PAPERS_PENDING = {claims.DOCUMENTS_PENDING, claims.AWAITING_INFORMATION, claims.WITHDRAWN}
CATEGORIES = {"unpaid_wages": 30, "contract_breach": 20, "recruitment_fraud": 18, "no_job_on_arrival": 10,
              "passport_withheld": 8, "permit_problems": 6, "abuse_unsafe_work": 5, "other": 3}
CHANNELS = {"in_person": 35, "udc": 30, "call_centre": 15, "online": 15, "mission_abroad": 5}
# Pre-departure steps recorded (a few, not all six: each is a request): claims' eligibility reads the clearance.
STEP_SETS = ((), ("bmet_registration",), ("bmet_registration", "training_certificate", "emigration_clearance"),
             ("bmet_registration", "visa", "emigration_clearance"))
SETTLED, AWARD = complaints.SETTLED, complaints.AWARD_ISSUED


@dataclass(frozen=True)
class Paper:
    doc_type: str
    decision: str | None  # "verified", "rejected", None: waiting for an officer


@dataclass(frozen=True)
class Heir:
    name_en: str
    name_bn: str
    relation: str
    nid: str
    phone: str


@dataclass(frozen=True)
class ClaimPlan:
    type: str
    target: str
    papers: tuple[Paper, ...]  # the claim's own papers, beyond the person's
    requested_amount: int  # medical aid: taka asked for; a death grant's is the fixed Tk 3,00,000
    event_days_ago: int
    heirs: tuple[Heir, ...] = ()
    officer: str = people.OFFICERS[0]


@dataclass(frozen=True)
class ComplaintPlan:
    target: str
    category: str
    channel: str
    amount_claimed: int
    assignee: str
    restricted: bool
    outcome: str  # settled or award_issued, for the targets past a decision (compliance, closed ...)
    closed_from: str  # dismissed or complied, for closed and reopened
    sub_agent: tuple[str, str] | None  # (name, phone)
    employer: str
    evidence: bool


@dataclass(frozen=True)
class MigrantPlan:
    number: int
    name_en: str
    name_bn: str
    sex: str
    date_of_birth: str
    nid: str
    passport_number: str
    phone: str
    district: str
    upazila: str
    destination_country: str
    occupation: str
    agency: str
    steps: tuple[str, ...]
    membership: str | None
    papers: tuple[Paper, ...]
    claim: ClaimPlan | None
    complaint: ComplaintPlan | None


def plan(seed: int, count: int) -> list[MigrantPlan]:
    return [migrant(seed, number) for number in range(count)]


def claim_ordinal(number: int) -> int | None:
    return number // 2 if number % 2 == 0 else None


def complaint_ordinal(number: int) -> int | None:
    return None if number % 3 == 2 else number // 3 * 2 + number % 3


def target(ordinal: int, weights: dict[str, int], rng: random.Random) -> str:
    states = list(weights)
    return states[ordinal] if ordinal < len(states) else _weighted(rng, weights)


def migrant(seed: int, number: int) -> MigrantPlan:
    rng = random.Random(f"{seed}-{number}")
    sex = "female" if rng.random() < 0.3 else "male"
    first, last = ((people.FEMALE_NAMES, people.FEMALE_SURNAMES) if sex == "female"
                   else (people.MALE_NAMES, people.MALE_SURNAMES))
    (first_en, first_bn), (last_en, last_bn) = rng.choice(first), rng.choice(last)
    born = date(rng.randint(1975, 2001), rng.randint(1, 12), rng.randint(1, 28))
    district = rng.choice(list(people.DISTRICTS))
    occupations = people.OCCUPATIONS_FEMALE if sex == "female" else people.OCCUPATIONS_MALE
    steps = rng.choice(STEP_SETS)
    papers = [Paper("passport_copy", "verified"), Paper("visa", "verified" if rng.random() < 0.8 else None),
              Paper("job_contract", _decision(rng, rejected=0.1, waiting=0.2))]
    if "training_certificate" in steps and rng.random() < 0.5:
        papers.append(Paper("training_certificate", "verified"))
    claim_at, complaint_at = claim_ordinal(number), complaint_ordinal(number)
    claim = None if claim_at is None else _claim(rng, target(claim_at, CLAIM_TARGETS, rng))
    complaint = None if complaint_at is None else _complaint(rng, target(complaint_at, COMPLAINT_TARGETS, rng))
    return MigrantPlan(
        number=number, name_en=f"{first_en} {last_en}", name_bn=f"{first_bn} {last_bn}", sex=sex,
        date_of_birth=born.isoformat(), nid=f"{born.year}{rng.randrange(10**9):09d}",
        passport_number=f"{rng.choice('ABE')}{rng.randrange(10**8):08d}", phone=_phone(rng), district=district,
        upazila=rng.choice(people.DISTRICTS[district]), destination_country=_weighted(rng, people.COUNTRIES),
        occupation=rng.choice(occupations), agency=rng.choice(list(people.AGENCIES)), steps=steps,
        membership=f"WEWB-{rng.randint(2019, 2025)}-{rng.randrange(10**6):06d}" if rng.random() < 0.6 else None,
        papers=tuple(papers), claim=claim, complaint=complaint)


def _claim(rng: random.Random, goal: str) -> ClaimPlan:
    kind = "death_grant" if goal == claims.RECOMMENDED or rng.random() < 0.2 else "medical_aid"
    needed = CLAIM_PAPERS[kind]
    if goal in _PAPERS_PENDING:  # the last one missing or rejected, so the claim waits on it
        last = Paper(needed[-1], "rejected") if rng.random() < 0.5 else None
        papers = [Paper(t, "verified") for t in needed[:-1]] + ([last] if last else [])
    else:
        papers = [Paper(t, "verified") for t in needed]
    heirs = ()
    if kind == "death_grant":
        (spouse_en, spouse_bn), (son_en, son_bn) = rng.choice(people.FEMALE_NAMES), rng.choice(people.MALE_NAMES)
        (wife_last_en, wife_last_bn), (son_last_en, son_last_bn) = (rng.choice(people.FEMALE_SURNAMES),
                                                                    rng.choice(people.MALE_SURNAMES))
        heirs = (Heir(f"{spouse_en} {wife_last_en}", f"{spouse_bn} {wife_last_bn}", "spouse",
                      f"{rng.randrange(10**10):010d}", _phone(rng)),
                 Heir(f"{son_en} {son_last_en}", f"{son_bn} {son_last_bn}", "son",
                      f"{rng.randrange(10**10):010d}", _phone(rng)))
    return ClaimPlan(type=kind, target=goal, papers=tuple(p for p in papers if p.doc_type != "passport_copy"),
                     requested_amount=rng.randrange(15, 95) * 1000, event_days_ago=rng.randint(10, 200),
                     heirs=heirs, officer=rng.choice(people.OFFICERS))


def _complaint(rng: random.Random, goal: str) -> ComplaintPlan:
    category = _weighted(rng, CATEGORIES)
    sub_agent = None
    if rng.random() < 0.4:
        (name_en, _), (last_en, _) = rng.choice(people.MALE_NAMES), rng.choice(people.MALE_SURNAMES)
        sub_agent = (f"{name_en} {last_en} (dalal)", _phone(rng))
    return ComplaintPlan(
        target=goal, category=category, channel=_weighted(rng, CHANNELS),
        amount_claimed=rng.randrange(30, 500) * 1000, assignee=rng.choice(people.LEGAL_AID),
        restricted=category == "abuse_unsafe_work" and rng.random() < 0.6,
        outcome=rng.choice((SETTLED, AWARD)),
        closed_from=rng.choice((complaints.DISMISSED, complaints.COMPLIED)), sub_agent=sub_agent,
        employer=rng.choice(people.EMPLOYERS), evidence=rng.random() < 0.7)


def _decision(rng: random.Random, *, rejected: float, waiting: float) -> str | None:
    draw = rng.random()
    return "rejected" if draw < rejected else None if draw < rejected + waiting else "verified"


def _phone(rng: random.Random) -> str:
    return f"+8801{rng.choice('3456789')}{rng.randrange(10**8):08d}"


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
