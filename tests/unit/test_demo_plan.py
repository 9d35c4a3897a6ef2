"""The demo data's plan (demo/plan.py): the same people for a seed, every status a claim or
complaint can rest in, each complaint's path a legal one, and every request body one the
services' own schemas accept."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from demo import load, people, plan
from services.claims import catalogue
from services.claims import domain as claims
from services.claims.schemas import filing_schema
from services.complaints import categories
from services.complaints import domain as complaints
from services.complaints.schemas import intake_schema
from services.registration.reference_data import COUNTRIES, DISTRICTS
from services.registration.schemas import MigrantCreateSchema
from services.registration.validation import new_reference
from shared.fields import today_in_bangladesh

TODAY = date(2026, 11, 28)


def test_the_same_seed_makes_the_same_people_and_more_people_adds_to_them():
    assert plan.plan(3, 40) == plan.plan(3, 40)
    assert plan.plan(3, 40)[:25] == plan.plan(3, 25)
    other = plan.plan(4, 40)
    assert all(a.nid != b.nid for a, b in zip(plan.plan(3, 40), other))


def test_nobody_shares_an_identity_number_in_a_big_load():
    everyone = plan.plan(1, 2000)
    assert len({p.nid for p in everyone}) == len({p.passport_number for p in everyone}) == 2000


def test_the_targets_are_every_status_a_case_can_rest_in():
    # `submitted` is never stored: filing answers documents_pending or under_review.
    assert set(plan.CLAIM_TARGETS) == set(claims.STATUSES) - {claims.SUBMITTED}
    assert set(plan.COMPLAINT_TARGETS) == set(complaints.STATUSES)


@pytest.mark.parametrize("seed", [1, 7, 99])
def test_the_smallest_full_load_has_every_status_and_one_fewer_does_not(seed):
    def reached(count):
        chosen = plan.plan(seed, count)
        return ({p.claim.target for p in chosen if p.claim}, {p.complaint.target for p in chosen if p.complaint})

    assert reached(plan.MIN_FOR_EVERY_STATE) == (set(plan.CLAIM_TARGETS), set(plan.COMPLAINT_TARGETS))
    assert reached(plan.MIN_FOR_EVERY_STATE - 1) != (set(plan.CLAIM_TARGETS), set(plan.COMPLAINT_TARGETS))


def test_a_big_load_is_weighted_like_a_working_office():
    everyone = plan.plan(1, 2000)
    claimed = Counter(p.claim.target for p in everyone if p.claim)
    complained = Counter(p.complaint.target for p in everyone if p.complaint)
    assert sum(claimed.values()) == 1000 and sum(complained.values()) == 1334
    assert claimed[claims.CLOSED] > 3 * claimed[claims.REVIEW_REQUESTED] > 0
    assert complained[complaints.CLOSED] > 3 * complained[complaints.ENFORCEMENT] > 0


def test_a_claim_waiting_on_its_papers_misses_one_and_the_others_have_them_all():
    for person in plan.plan(5, 200):
        if not person.claim:
            continue
        needed = set(plan.CLAIM_PAPERS[person.claim.type]) - {"passport_copy"}  # the person's own, verified
        verified = {p.doc_type for p in person.claim.papers if p.decision == "verified"}
        waiting = person.claim.target in (claims.DOCUMENTS_PENDING, claims.AWAITING_INFORMATION, claims.WITHDRAWN)
        assert (verified != needed) == waiting, person.claim
        assert (person.claim.type == "death_grant") >= (person.claim.target == claims.RECOMMENDED)


@pytest.mark.parametrize("goal", list(plan.COMPLAINT_TARGETS))
@pytest.mark.parametrize("closed_from", [complaints.DISMISSED, complaints.COMPLIED])
def test_each_complaint_path_is_a_legal_walk_to_its_target(goal, closed_from):
    complaint = plan.ComplaintPlan(target=goal, category="unpaid_wages", channel="udc", amount_claimed=120000,
                                   assignee=people.LEGAL_AID[0], restricted=False, outcome=plan.AWARD,
                                   closed_from=closed_from, sub_agent=None, employer="X", evidence=False)
    status = complaints.RECEIVED
    for step in load._complaint_path(complaint):
        if step in complaints.STATUSES:
            assert step in complaints.ALLOWED[status], (status, step)
            status = step
    # An award left unpaid rests in compliance monitoring until its deadline has passed.
    assert status == (complaints.COMPLIANCE_MONITORING if goal in load.UNPAID else goal)


def test_every_body_is_one_the_services_own_schemas_take():
    registration = MigrantCreateSchema(today=TODAY)
    filing = filing_schema(catalogue.load())()
    intake = intake_schema(categories.load())()
    for person in plan.plan(2, 120):
        assert person.district in DISTRICTS and person.destination_country in COUNTRIES
        registration.load(load._registration(person))
        reference = new_reference()
        if person.claim:
            # The filing schema judges event dates against the real today (Dhaka).
            filed = filing.load(load._filing(person, person.claim, reference, today_in_bangladesh()))
            assert filed["type"] == person.claim.type
        if person.complaint:
            intake.load(load._intake(person, person.complaint, reference))
            terms = load._outcome_terms(plan.AWARD, 80000, TODAY, short=person.complaint.target in load.UNPAID)
            assert sum(i["amount"] for i in terms["instalments"]) == 80000
            assert all(TODAY < date.fromisoformat(i["due_on"]) <= date.fromisoformat(terms["payment_deadline"])
                       for i in terms["instalments"])


def test_agencies_are_made_up_and_say_so():
    assert all(licence.startswith("RL-90") and name.endswith("(demo)") for licence, name in people.AGENCIES.items())


def test_without_make_runs_key_it_says_to_start_the_services_first(tmp_path):
    from demo.__main__ import main

    with pytest.raises(SystemExit, match="make run"):
        main(["--migrants", "1", "--key-file", str(tmp_path / "absent.pem")])


def test_a_service_that_is_not_running_fails_each_person_by_name_and_exits_1(tmp_path, capsys):
    import socket

    from demo.__main__ import main
    from shared.auth import write_dev_key

    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = write_dev_key(tmp_path / "dev-key.pem")
    urls = [f"--url={name}=http://127.0.0.1:{port}" for name in ("registration", "documents", "claims",
                                                                 "complaints", "casestatus")]
    assert main(["--migrants", "2", "--key-file", str(key), *urls]) == 1
    report = capsys.readouterr().err
    assert "registered 0 migrants" in report and "2 failed" in report
    assert f"registration is not answering at http://127.0.0.1:{port}" in report and "make run" in report
