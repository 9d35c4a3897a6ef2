"""Stage clocks without I/O (services/claims/clocks.py): due dates from the catalogue's
target days, pauses while the family is awaited, the mission's own clock, stage changes,
and the overdue mark once per claim and stage."""
from __future__ import annotations

from datetime import timedelta

from services.claims import clocks, domain

from tests.unit.test_claims_domain import ALL_VERIFIED, NOW, OFFICER, SECOND, file

DAYS = timedelta(days=1)


def saved(claim):
    """What changes.save does to every claim it writes."""
    clocks.apply(claim, claim["updated_at"])
    return claim


def filed(documents=()):
    return saved(file(documents=documents))


def ask(claim, source, at):
    return saved(domain.request_information(claim, source=source, note="Send the heirship certificate", actor=OFFICER,
                                            now=at))


def answered(claim, at):
    return saved(domain.information_received(claim, note="Received", actor=OFFICER, now=at))


def test_filing_starts_the_stage_clock_with_the_catalogues_target_days():
    claim = filed()
    assert claim["status"] == domain.DOCUMENTS_PENDING and claim["target_days"]["documents_pending"] == 30
    assert claim["clock"]["stage"] == "documents_pending" and claim["clock"]["due_at"] == NOW + 30 * DAYS
    assert claim.get("alarm_at") == claim["due_order"] == NOW + 30 * DAYS
    assert clocks.mark_overdue(claim, NOW + 30 * DAYS - timedelta(seconds=1)) is None


def test_waiting_on_the_family_stops_the_clock_and_the_wait_is_not_counted():
    claim = ask(filed(), "family", NOW + 10 * DAYS)
    assert claim["clock"]["paused_for"] == "family" and claim["clock"]["due_at"] is None
    assert claim.get("alarm_at") is None and claim["due_order"] == clocks.NOTHING_DUE
    assert clocks.mark_overdue(claim, NOW + 400 * DAYS) is None  # a paused clock does not go overdue
    back = answered(claim, NOW + 30 * DAYS)
    assert back["status"] == domain.DOCUMENTS_PENDING
    # 10 days counted before the wait, 20 left from the answer: due 50 days after filing.
    assert back["clock"]["due_at"] == NOW + 50 * DAYS and back["clock"]["counted_seconds"] == 10 * 86400
    assert back["clock"]["mission"]["counted_seconds"] == 0


def test_waiting_on_a_mission_runs_on_the_missions_own_clock():
    claim = ask(filed(), "mission", NOW + 10 * DAYS)
    assert claim["clock"]["paused_for"] == "mission" and claim["clock"]["due_at"] is None  # no mission target
    back = answered(claim, NOW + 15 * DAYS)
    assert back["clock"]["mission"] == {"since": None, "counted_seconds": 5 * 86400.0, "waits": 1}
    assert back["clock"]["due_at"] == NOW + 35 * DAYS  # the stage's clock stood still too
    again = answered(ask(back, "mission", NOW + 20 * DAYS), NOW + 23 * DAYS)
    assert again["clock"]["mission"]["counted_seconds"] == 8 * 86400.0 and again["clock"]["mission"]["waits"] == 2


def test_a_mission_target_makes_the_wait_fall_due_and_it_is_marked_once():
    claim = file()
    claim["target_days"] = {**claim["target_days"], clocks.MISSION: 7}
    waiting = ask(saved(claim), "mission", NOW + 1 * DAYS)
    assert waiting["clock"]["due_at"] == NOW + 8 * DAYS and clocks.running_clock(waiting) == clocks.MISSION
    marked = clocks.mark_overdue(waiting, NOW + 9 * DAYS)
    assert marked["overdue"]["stage"] == clocks.MISSION and marked["overdue_stages"] == [clocks.MISSION]
    assert marked.get("alarm_at") is None and clocks.mark_overdue(marked, NOW + 10 * DAYS) is None
    back = answered(marked, NOW + 10 * DAYS)
    assert back.get("alarm_at") == back["clock"]["due_at"] == NOW + 39 * DAYS  # the stage can still fall due


def test_a_new_stage_starts_its_own_clock_and_a_recommendation_keeps_the_decisions_clock():
    claim = filed()
    review = saved(domain.ready_for_review(domain.touched(claim, NOW + 2 * DAYS), NOW + 2 * DAYS))
    assert review["clock"]["stage"] == "under_review" and review["clock"]["due_at"] == NOW + 32 * DAYS
    review["eligibility"] = [{**r, "met": True} for r in review["eligibility"]]
    recommended = saved(domain.approve(review, amount=None, reason=None, eligibility_override=None, actor=OFFICER,
                                       now=NOW + 5 * DAYS, second_approval_above=100_000))
    assert recommended["status"] == domain.RECOMMENDED and recommended["clock"]["due_at"] == NOW + 32 * DAYS
    approved = saved(domain.approve(recommended, amount=None, reason=None, eligibility_override=None, actor=SECOND,
                                    now=NOW + 6 * DAYS, second_approval_above=100_000))
    assert approved["clock"]["stage"] is None and approved["clock"]["due_at"] is None
    assert approved["due_order"] == clocks.NOTHING_DUE and approved.get("alarm_at") is None
    ordered = saved(domain.order_payment(approved, actor=OFFICER, now=NOW + 7 * DAYS))
    assert ordered["clock"]["stage"] == "payment_ordered" and ordered["clock"]["due_at"] == NOW + 14 * DAYS


def test_overdue_is_marked_once_per_claim_and_stage_and_a_review_after_rejection_is_not_marked_again():
    claim = saved(file(documents=ALL_VERIFIED))
    assert claim["status"] == domain.UNDER_REVIEW and claim["clock"]["due_at"] == NOW + 30 * DAYS
    marked = clocks.mark_overdue(claim, NOW + 31 * DAYS)
    assert marked["version"] == claim["version"] + 1
    assert marked["overdue"] == {"stage": "under_review", "due_at": NOW + 30 * DAYS, "marked_at": NOW + 31 * DAYS}
    assert clocks.mark_overdue(marked, NOW + 32 * DAYS) is None
    rejected = saved(domain.reject(marked, code="late", text_en="x", text_bn="x", actor=OFFICER, now=NOW + 33 * DAYS))
    assert rejected["overdue"] is None  # the mark belonged to the stage clock that stopped
    review = saved(domain.request_review(rejected, note="Please look again", actor=OFFICER, now=NOW + 34 * DAYS))
    assert review["clock"]["due_at"] == NOW + 64 * DAYS and review.get("alarm_at") is None
    assert clocks.is_overdue(review, NOW + 65 * DAYS) and clocks.mark_overdue(review, NOW + 65 * DAYS) is None


def test_a_mark_survives_a_pause_of_its_stage():
    marked = clocks.mark_overdue(filed(), NOW + 31 * DAYS)
    back = answered(ask(marked, "family", NOW + 32 * DAYS), NOW + 40 * DAYS)
    assert back["overdue"]["stage"] == "documents_pending" and back.get("alarm_at") is None
    assert back["clock"]["due_at"] == NOW + 38 * DAYS
