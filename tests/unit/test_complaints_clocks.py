"""Clocks of a complaint (services/complaints/clocks.py): scrutiny, acknowledgement and disposal
from filing, several at once; disposal standing still while a body holds the case (the delay
runs on the referral's own clock); a new disposal clock on reopening; once per stage marks."""
from __future__ import annotations

from datetime import timedelta

from services.complaints import awards, clocks, domain, hearings, referrals
from services.complaints import intake as intake_rules
from services.complaints.due_queue import DueQueue, visible_to
from shared.auth import Principal

from .complaints_builders import LISTS, NOW, PARTIES, STAFF, TODAY, intake

DAY = timedelta(days=1)
TARGETS = {"scrutiny": 7, "acknowledgement": 15, "disposal": 90}


def saved(complaint: dict) -> dict:
    """What core's changes.save does before each write."""
    clocks.apply(complaint, complaint["updated_at"])
    return complaint


def filed(**targets) -> dict:
    c = intake_rules.new_complaint(intake(), complaint_id="CMP-1", receipt_number="CP-2345-678X", lists=LISTS,
                                   actor=STAFF, now=NOW)
    return saved({**c, "target_days": {**TARGETS, **targets}, "linked_claims": []})


def at(n: float):
    return NOW + n * DAY


def heard_on(days: int, c=None) -> dict:
    """Scrutiny on day 1, acknowledged day 2, notice day 3, heard on day `days`."""
    c = saved(domain.start_scrutiny(c or filed(), actor=STAFF, now=at(1)))
    c = saved(domain.acknowledge(c, committee=["Deputy Director"], actor=STAFF, now=at(2)))
    c = saved(domain.send_notice(c, actor=STAFF, now=at(3)))
    c = saved(hearings.schedule(c, on=(at(days)).date(), venue="BMET Dhaka", parties=PARTIES, actor=STAFF, now=at(3),
                                today=TODAY + 3 * DAY))
    return saved(hearings.hold(c, attendance={"complainant": True, "recruiting_agency": True}, minutes="Heard.",
                               actor=STAFF, now=at(days)))


def referred_on(days: int, c: dict, body="mission_labour_wing", target_days=30) -> dict:
    return saved(referrals.refer(c, body=body, note="Recover the wages", target_days=target_days, lists=LISTS,
                                 actor=STAFF, now=at(days)))


def referral_to(days: int, c: dict, to: str, referral_no=1) -> dict:
    return saved(referrals.update(c, referral_no=referral_no, to=to, note="Not ours" if to == "declined" else None,
                                  actor=STAFF, now=at(days)))


def test_a_filed_complaint_runs_three_clocks_and_is_due_first_for_scrutiny():
    c = filed()
    assert clocks.running_clocks(c) == ["scrutiny", "acknowledgement", "disposal"]
    assert {s: k["due_at"] for s, k in c["clocks"].items()} == {
        "scrutiny": at(7), "acknowledgement": at(15), "disposal": at(90)}
    assert c["due_order"] == c["alarm_at"] == at(7)
    assert (c["overdue"], c["overdue_stages"]) == (None, [])
    assert not clocks.is_overdue(c, at(7) - timedelta(seconds=1)) and clocks.is_overdue(c, at(7))


def test_disposal_is_90_days_unless_configured_otherwise_and_a_stage_without_a_target_never_falls_due():
    c = filed(disposal=60, scrutiny=0)
    assert c["clocks"]["disposal"]["due_at"] == at(60)
    assert c["clocks"]["scrutiny"]["state"] == "running" and c["clocks"]["scrutiny"]["due_at"] is None
    assert c["alarm_at"] == at(15)
    assert clocks.mark_overdue(c, at(14)) is None


def test_the_timer_marks_the_earliest_due_stage_once_and_then_the_next_when_it_falls_due():
    c = filed()
    assert clocks.mark_overdue(c, at(7) - timedelta(seconds=1)) is None
    marked = clocks.mark_overdue(c, at(7))
    assert marked["version"] == c["version"] + 1 and marked["updated_at"] == at(7)
    assert marked["overdue_stages"] == ["scrutiny"]
    assert marked["overdue"] == {"stage": "scrutiny", "due_at": at(7), "marked_at": at(7)}
    # still overdue in a running stage (the queue's filter), but the alarm moves to the next stage
    assert marked["due_order"] == at(7) and marked["alarm_at"] == at(15)
    assert clocks.mark_overdue(marked, at(10)) is None  # once per complaint and stage
    again = clocks.mark_overdue(marked, at(15))
    assert again["overdue_stages"] == ["scrutiny", "acknowledgement"] and again["overdue"]["stage"] == "acknowledgement"
    assert c["overdue_stages"] == [] and c["clocks"]["scrutiny"]["marked_at"] is None  # the read one is untouched


def test_a_complaint_left_alone_is_marked_in_each_stage_once_earliest_first():
    c, stages = filed(), []
    while (marked := clocks.mark_overdue(c, at(200))) is not None:
        stages.append(marked["overdue_stages"][-1])
        c = marked
    assert stages == ["scrutiny", "acknowledgement", "disposal"]
    assert "alarm_at" not in c and c["due_order"] == at(7)


def test_each_step_stops_its_clock_and_a_stopped_clocks_mark_is_no_longer_the_complaints():
    c = clocks.mark_overdue(filed(), at(8))
    c = saved(domain.start_scrutiny(c, actor=STAFF, now=at(9)))
    scrutiny = c["clocks"]["scrutiny"]
    assert (scrutiny["state"], scrutiny["stopped_at"], scrutiny["due_at"]) == ("stopped", at(9), at(7))
    assert c["overdue"] is None and c["overdue_stages"] == ["scrutiny"]
    assert c["due_order"] == c["alarm_at"] == at(15)
    c = saved(domain.acknowledge(c, committee=["Deputy Director"], actor=STAFF, now=at(10)))
    assert clocks.running_clocks(c) == ["disposal"] and c["due_order"] == at(90)


def test_disposal_stands_still_while_a_body_holds_the_case_and_the_delay_runs_on_the_referrals_clock():
    c = referred_on(20, heard_on(10))
    disposal = c["clocks"]["disposal"]
    assert (disposal["state"], disposal["due_at"], disposal["counted_seconds"]) == ("paused", None, 20 * 86400)
    assert clocks.running_clocks(c) == ["referral:1"]
    assert c["clocks"]["referral:1"]["due_at"] == c["due_order"] == c["alarm_at"] == at(50)

    late = clocks.mark_overdue(c, at(51))
    assert late["overdue"]["stage"] == "referral:1" and late["overdue_stages"] == ["referral:1"]
    c = referral_to(55, late, "accepted")  # still with the body: still overdue, and marked once
    assert c["overdue"]["stage"] == "referral:1" and "alarm_at" not in c
    c = referral_to(60, c, "completed")
    # back with the office: disposal runs on from where it stood (20 days counted of 90)
    assert c["clocks"]["disposal"]["state"] == "running"
    assert c["clocks"]["disposal"]["due_at"] == c["due_order"] == c["alarm_at"] == at(130)
    assert c["clocks"]["referral:1"]["state"] == "stopped" and c["overdue"] is None


def test_with_two_bodies_disposal_waits_for_both_and_each_referral_has_its_own_clock():
    c = referred_on(20, heard_on(10))
    c = referred_on(25, c, body="police_expatriate_help_cell", target_days=10)
    assert clocks.running_clocks(c) == ["referral:2", "referral:1"] and c["due_order"] == at(35)
    c = referral_to(30, c, "declined", referral_no=2)
    assert clocks.running_clocks(c) == ["referral:1"] and c["clocks"]["disposal"]["state"] == "paused"


def test_a_disposal_marked_before_a_referral_never_alarms_again():
    c = clocks.mark_overdue(heard_on(10), at(95))
    assert c["overdue_stages"] == ["disposal"]  # scrutiny and acknowledgement stopped on time
    assert clocks.mark_overdue(c, at(95)) is None
    c = referred_on(96, c)
    assert c["overdue"] is None  # the delay is now the body's
    c = referral_to(100, c, "declined")
    assert c["overdue"]["stage"] == "disposal" and c["due_order"] <= at(100)
    assert "alarm_at" not in c and clocks.mark_overdue(c, at(300)) is None


def test_a_decision_or_a_withdrawal_stops_every_clock():
    decided = saved(awards.decide(heard_on(10), kind=domain.AWARD_ISSUED, amount=100000,
                                  payment_deadline=(at(70)).date(), instalments=None, terms=None, actor=STAFF,
                                  now=at(11), today=TODAY + 11 * DAY))
    assert clocks.running_clocks(decided) == [] and decided["due_order"] == clocks.NOTHING_DUE
    assert "alarm_at" not in decided and decided["clocks"]["disposal"]["stopped_at"] == at(11)
    withdrawn = saved(domain.withdraw(referred_on(20, heard_on(10)), reason="Paid by the agency", actor=STAFF,
                                      now=at(21)))
    assert clocks.running_clocks(withdrawn) == [] and withdrawn["due_order"] == clocks.NOTHING_DUE
    assert withdrawn["clocks"]["referral:1"]["state"] == "stopped"


def test_reopening_starts_a_new_disposal_clock_that_may_alarm_though_the_first_was_marked():
    c = clocks.mark_overdue(heard_on(10), at(95))
    c = saved(domain.dismiss(c, reason="No proof of payment", actor=STAFF, now=at(96)))
    c = saved(domain.close(c, note=None, actor=STAFF, now=at(97)))
    c = saved(domain.reopen(c, reason="The contract was found", window_days=90, actor=STAFF, now=at(100)))
    assert clocks.running_clocks(c) == ["disposal:reopening:1"]
    assert c["clocks"]["disposal:reopening:1"]["due_at"] == c["alarm_at"] == at(190)
    assert c["clocks"]["disposal"]["state"] == "stopped"
    marked = clocks.mark_overdue(c, at(190))
    assert marked["overdue_stages"] == ["disposal", "disposal:reopening:1"]


def test_apply_leaves_the_version_it_was_given_unchanged():
    before = heard_on(10)
    after = referred_on(20, before)
    assert before["clocks"]["disposal"]["state"] == "running" and after["clocks"]["disposal"]["state"] == "paused"


def test_a_complaint_written_before_the_clocks_gets_them_on_its_next_write():
    c = filed()
    for field in ("clocks", "due_order", "alarm_at", "overdue", "overdue_stages"):
        c.pop(field, None)
    c = saved(domain.start_scrutiny(c, actor=STAFF, now=at(3)))
    assert clocks.running_clocks(c) == ["acknowledgement", "disposal"] and c["due_order"] == at(15)


# -- the queue's queries, without I/O ------------------------------------------------------

def test_a_staff_members_queue_is_two_branches_open_or_restricted_and_theirs_and_an_admins_one():
    staff, admin = Principal("legal-7", "legal_aid"), Principal("root", "admin")
    assert DueQueue.branches({"status": "hearing", **visible_to(admin)}) == [{"status": "hearing"}]
    assert DueQueue.branches({"status": "hearing", **visible_to(staff)}) == [
        {"status": "hearing", "restricted": False}, {"status": "hearing", "restricted": True, "assignee": "legal-7"}]
    # the service's spelling of the same rule reads the same
    assert DueQueue.branches({"status": "hearing", "$or": [{"restricted": False}, {"assignee": "legal-7"}]}) == \
        DueQueue.branches({"status": "hearing", **visible_to(staff)})
    # a filter on another assignee leaves the restricted branch out: it could keep nothing
    assert DueQueue.branches({"assignee": "legal-2", **visible_to(staff)}) == [
        {"assignee": "legal-2", "restricted": False}]


def test_the_index_serves_the_most_selective_filter_and_the_rest_are_checked_on_the_rows():
    assert DueQueue.split({"status": "hearing", "district": "Sylhet", "restricted": False}) == (
        {"district": "Sylhet"}, {"status": "hearing", "restricted": False})
    assert DueQueue.split({"restricted": False}) == ({}, {"restricted": False})
    # a staff member's restricted complaints are read by their assignee
    assert DueQueue.split({"status": "hearing", "restricted": True, "assignee": "legal-7"}) == (
        {"restricted": True, "assignee": "legal-7"}, {"status": "hearing"})
    assert DueQueue.split({"agency_licences": "RL-17"}) == ({"agency_licences": "RL-17"}, {})


def test_a_later_page_is_the_rest_of_its_due_date_then_later_within_the_overdue_range():
    cursor = [at(7), "CMP-1"]
    assert DueQueue.page_queries({"status": "hearing"}, None, None) == [{"status": "hearing"}]
    assert DueQueue.page_queries({}, (True, at(10)), cursor) == [
        {"due_order": at(7), "_id": {"$gt": "CMP-1"}}, {"due_order": {"$gt": at(7), "$lte": at(10)}}]
    assert DueQueue.page_queries({}, (False, at(10)), cursor) == [{"due_order": {"$gt": at(10)}}]
