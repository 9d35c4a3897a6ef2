"""One demo person loaded through the services' APIs, as the people at the counter and in the
offices would, in rounds (__main__.load runs each over everyone before the next): registered
by an officer with a few pre-departure steps; their papers uploaded and decided in the vault; a
claim filed, a complaint taken to its planned status by its legal aid staff member, and last the
claim decided by welfare officers. Each service learns the others' news from events only, so a
call that needs it (the vault knowing the owner, claims knowing the papers) is repeated until it
does (client.repeat_while).

A person already registered (the same NID: a second run with the same seed) is left alone,
except that an award planned to go unpaid is marked not complied (and enforced) once its
payment deadline, the day after it was made, has passed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from services.claims import domain as claims
from services.complaints import domain as complaints

from . import people
from .client import Answer, Case, Client, LoadError
from .plan import AWARD, ClaimPlan, ComplaintPlan, MigrantPlan, Paper

# A stand-in scan: the vault decides the type from the bytes (a PDF here), never the name.
SCAN = b"%PDF-1.4\n% Probashi demo data: a stand-in for a scanned paper\n%%EOF\n"
REJECTION = "The scan cannot be read"
UNPAID = (complaints.NOT_COMPLIED, complaints.ENFORCEMENT)
REGISTRAR = people.OFFICERS[0]


@dataclass
class Outcome:
    """What loading one person did: for the summary and the tests."""
    reference: str | None = None
    registered: bool = False
    documents: list[str] = field(default_factory=list)
    papers: dict[str, str] = field(default_factory=dict)  # the person's own, by type
    filed: Case | None = None  # the claim, filed and waiting for its decisions
    claim: tuple[str, str] | None = None  # (claim id, status)
    complaint: tuple[str, str] | None = None  # (complaint id, status)
    waiting: bool = False  # an award that becomes not complied once its deadline passed


class Loader:
    def __init__(self, client: Client, today: date):
        self.client, self.today = client, today
        self.officer = lambda subject=REGISTRAR: client.tokens("welfare_officer", subject)
        self.lawyer = lambda subject: client.tokens("legal_aid", subject)
        self.admin = client.tokens("admin", people.ADMIN)

    # Rounds over everyone (__main__.load): by the time a round starts, the services have mostly
    # learnt from the events of the one before, so few calls wait on them.
    ROUNDS = ("register", "papers", "cases", "decisions")

    def register(self, person: MigrantPlan, outcome: Outcome) -> None:
        answer = self.client.call("registration", "POST", "/migrants", self.officer(), json=_registration(person))
        if answer.status == 409 and answer.body.get("existing_reference"):
            outcome.reference = answer.body["existing_reference"]
            return
        if not answer.ok:
            raise LoadError(f"registering: {answer.detail()}")
        outcome.reference, outcome.registered = answer.body["reference"], True
        self._steps(person, outcome.reference)

    def papers(self, person: MigrantPlan, outcome: Outcome) -> None:
        """The person's papers, and those their claim will need (uploaded before it is filed, so
        the claim finds them in its checklist, as at a counter where the family brings them)."""
        if not outcome.registered:
            return
        for paper in person.papers:
            outcome.papers[paper.doc_type] = self._paper(outcome, paper)
        for paper in person.claim.papers if person.claim else ():
            self._paper(outcome, paper, person.claim.officer)

    def cases(self, person: MigrantPlan, outcome: Outcome) -> None:
        """The claim filed (decided in the next round, once claims has its papers' news) and the
        complaint taken to its planned status."""
        if not outcome.registered:
            self._finish_unpaid(person, outcome)
            return
        if person.claim:
            outcome.filed = self._file(person, person.claim, outcome)
            outcome.claim = (outcome.filed.body["claim_id"], outcome.filed.status)
        if person.complaint:
            outcome.complaint = self._complaint(person, person.complaint, outcome, outcome.papers.get("job_contract"))

    def decisions(self, person: MigrantPlan, outcome: Outcome) -> None:
        if outcome.filed:
            self._decide(person, person.claim, outcome.filed)
            outcome.claim = (outcome.filed.body["claim_id"], outcome.filed.status)

    # -- registration and the vault ---------------------------------------------------------

    def _steps(self, person: MigrantPlan, reference: str) -> None:
        for number, step in enumerate(person.steps):
            self.client.must("registration", "POST", f"/migrants/{reference}/steps", self.officer(), json={
                "step": step, "date": (self.today - timedelta(days=400 - 30 * number)).isoformat(),
                "reference": f"{step.upper()[:4]}-{person.nid[-6:]}"})
        if person.membership:
            self.client.must("registration", "POST", f"/migrants/{reference}/membership", self.officer(), json={
                "number": person.membership, "valid_until": (self.today + timedelta(days=700)).isoformat()})

    def _paper(self, outcome: Outcome, paper: Paper, officer: str = REGISTRAR) -> str:
        """Uploaded (once the vault knows the owner) and, as planned, verified or rejected."""
        answer = self.client.once_known("documents", "POST", "/documents", self.officer(officer), unknown=(422,),
                                        files={"file": (f"{paper.doc_type}.pdf", SCAN, "application/pdf")},
                                        data={"owner": outcome.reference, "doc_type": paper.doc_type})
        document_id = answer.body["document_id"]
        if paper.decision:
            body = {"decision": paper.decision, "version": 1}
            if paper.decision == "rejected":
                body["reason"] = REJECTION
            self.client.must("documents", "POST", f"/documents/{document_id}/verification", self.officer(officer),
                             json=body)
        outcome.documents.append(document_id)
        return document_id

    # -- a welfare claim --------------------------------------------------------------------

    def _file(self, person: MigrantPlan, plan: ClaimPlan, outcome: Outcome) -> Case:
        token = self.officer(plan.officer)
        answer = self.client.once_known("claims", "POST", "/claims", token, unknown=(404,),
                                        json=_filing(person, plan, outcome.reference, self.today))
        return Case(self.client, "claims", f"/claims/{answer.body['claim_id']}", token, answer)

    def _decide(self, person: MigrantPlan, plan: ClaimPlan, claim: Case) -> None:
        goal = plan.target
        if goal in (claims.DOCUMENTS_PENDING, claims.AWAITING_INFORMATION, claims.WITHDRAWN):
            _claim_waiting(claim, goal)
            return
        if claim.read().status != claims.UNDER_REVIEW:  # the papers' events reach claims after the filing
            claim.wait_for(claims.UNDER_REVIEW)
        if goal == claims.UNDER_REVIEW:
            return
        if goal in (claims.REJECTED, claims.REVIEW_REQUESTED):
            claim.must("rejection", {"reason_code": "not_eligible", "reason_en": "The papers do not show the claim.",
                                     "reason_bn": "কাগজপত্রে দাবির প্রমাণ পাওয়া যায়নি।"})
            if goal == claims.REVIEW_REQUESTED:
                claim.must("review-requests", {"note": "The family sent the hospital's records; please look again."})
            return
        self._approve(claim, second=goal != claims.RECOMMENDED)
        if goal in (claims.PAYMENT_ORDERED, claims.PAID, claims.CLOSED):
            claim.must("payment-order")
        if goal in (claims.PAID, claims.CLOSED):
            _pay_claim(claim, person)
        if goal == claims.CLOSED:
            claim.must("closure", {"note": "Payment confirmed with the family by phone."})

    def _approve(self, claim: Case, second: bool) -> None:
        """As the rule gives; an unmet condition overridden with a reason (recorded). Above the
        second-approval amount a recommendation, which another officer approves unless the
        plan stops there."""
        body = {}
        if any(condition["met"] is not True for condition in claim.body["eligibility"]):
            body["eligibility_override"] = "Board decision: membership records are being corrected"
        claim.must("approval", body)
        if claim.status == claims.RECOMMENDED and second:
            other = next(o for o in people.OFFICERS if o != claim.body["recommendation"]["by"])
            claim.must("approval", {}, token=self.officer(other))

    # -- a complaint -------------------------------------------------------------------------

    def _complaint(self, person: MigrantPlan, plan: ComplaintPlan, outcome: Outcome,
                   contract: str | None) -> tuple[str, str]:
        token = self.lawyer(plan.assignee)
        answer = self.client.once_known("complaints", "POST", "/complaints", token, unknown=(404,),
                                        json=_intake(person, plan, outcome.reference))
        complaint = Case(self.client, "complaints", f"/complaints/{answer.body['complaint_id']}", token, answer)
        # A restricted complaint is seen only by its assignee and admins: an admin assigns it.
        complaint.must("assignment", {"assignee": plan.assignee}, token=self.admin if plan.restricted else None)
        if plan.evidence and contract:  # once complaints learnt of the document from the vault
            complaint.must("evidence", {"document_id": contract}, unknown=(404, 422))
        for status in _complaint_path(plan):
            _complaint_step(complaint, status, plan, self.today)
        outcome.waiting = plan.target in UNPAID
        return answer.body["complaint_id"], complaint.status

    def _finish_unpaid(self, person: MigrantPlan, outcome: Outcome) -> None:
        """A second run: an award planned to go unpaid is marked so once its deadline passed."""
        plan = person.complaint
        if not plan or plan.target not in UNPAID:
            return
        found = self.client.must("complaints", "GET", "/complaints", self.admin,
                                 params={"migrant_reference": outcome.reference}).body["items"]
        if not found:
            return
        complaint = Case(self.client, "complaints", f"/complaints/{found[0]['complaint_id']}",
                         self.lawyer(plan.assignee), Answer(200, found[0], None)).read()
        if complaint.status == complaints.COMPLIANCE_MONITORING:
            late = complaint.step("non-compliance")
            if late.status == 409:  # the deadline has not passed yet
                outcome.waiting = True
            elif not late.ok:
                raise LoadError(f"{complaint.path}/non-compliance: {late.detail()}")
        if complaint.status == complaints.NOT_COMPLIED and plan.target == complaints.ENFORCEMENT:
            _complaint_step(complaint, complaints.ENFORCEMENT, plan, self.today)
        outcome.complaint = (complaint.body["complaint_id"], complaint.status)


def _claim_waiting(claim: Case, goal: str) -> None:
    if goal == claims.AWAITING_INFORMATION:
        claim.must("information-requests", {"source": "family", "note": "Please send the missing paper."})
    elif goal == claims.WITHDRAWN:
        claim.must("withdrawal", {"reason": "The family decided not to go on with the claim."})


def _pay_claim(claim: Case, person: MigrantPlan) -> None:
    amount, number = claim.body["approved_amount"], claim.body["claim_id"][-8:]
    heirs = claim.body.get("heirs") or []
    if not heirs:
        claim.must("payments", {"amount": amount, "method": "mobile_wallet", "account": "0" + person.phone[-10:],
                                "reference": f"BKASH-{number}-1"})
        return
    for heir in heirs:
        share = amount * heir["share"]["numerator"] // heir["share"]["denominator"]
        claim.must("payments", {"amount": share, "method": heir["payout"]["method"],
                                "account": heir["payout"]["account_number"], "heir_id": heir["heir_id"],
                                "reference": f"BEFTN-{number}-{heir['heir_id']}"})


# The statuses a complaint passes through to each planned one (after intake).
_TO_HEARING = (complaints.SCRUTINY, complaints.ACKNOWLEDGED, complaints.NOTICE_TO_RESPONDENT, complaints.HEARING)


def _complaint_path(plan: ComplaintPlan) -> tuple[str, ...]:
    goal = plan.target
    if goal == complaints.RECEIVED:
        return ()
    if goal in _TO_HEARING:
        return _TO_HEARING[:_TO_HEARING.index(goal) + 1]
    if goal == complaints.WITHDRAWN:
        return (complaints.SCRUTINY, complaints.WITHDRAWN)
    if goal in (complaints.DISMISSED, complaints.REFERRED):
        return (*_TO_HEARING, "held", goal)
    if goal in (complaints.SETTLED, complaints.AWARD_ISSUED):
        return (*_TO_HEARING, "held", goal)
    decided = (*_TO_HEARING, "held", plan.outcome)
    if goal in (complaints.COMPLIANCE_MONITORING, *UNPAID):
        return (*decided, complaints.COMPLIANCE_MONITORING, "part_payment")
    if goal == complaints.COMPLIED:
        return (*decided, complaints.COMPLIANCE_MONITORING, complaints.COMPLIED)
    closed = ((*_TO_HEARING, "held", complaints.DISMISSED) if plan.closed_from == complaints.DISMISSED
              else (*decided, complaints.COMPLIANCE_MONITORING, complaints.COMPLIED))
    return (*closed, complaints.CLOSED) + ((complaints.REOPENED,) if goal == complaints.REOPENED else ())


def _complaint_step(complaint: Case, status: str, plan: ComplaintPlan, today: date) -> None:
    unpaid = plan.target in UNPAID
    if status == complaints.SCRUTINY:
        complaint.must("scrutiny")
    elif status == complaints.ACKNOWLEDGED:
        complaint.must("acknowledgement", {"committee": ["Deputy Director (Legal), BMET", "Legal aid officer, WEWB"]})
    elif status == complaints.NOTICE_TO_RESPONDENT:
        complaint.must("notice")
    elif status == complaints.HEARING:
        complaint.must("hearings", {"date": (today + timedelta(days=7 + plan.amount_claimed % 21)).isoformat(),
                                    "venue": "BMET Dhaka, hearing room 3", "parties": _parties(plan)})
    elif status == "held":
        complaint.must("hearings/held", {"attendance": {party: True for party in _parties(plan)},
                                         "minutes": "Both sides heard; the agency's records were examined."})
    elif status in (complaints.SETTLED, complaints.AWARD_ISSUED):
        amount = max(10_000, plan.amount_claimed * 2 // 3 // 1000 * 1000)
        complaint.must("outcome", _outcome_terms(status, amount, today, short=unpaid))
    elif status == complaints.DISMISSED:
        complaint.must("dismissal", {"reason": "The complainant's claim was not proven at the hearing."})
    elif status == complaints.REFERRED:
        complaint.must("referrals", {"body": "mission_labour_wing",
                                     "note": "Please trace the employer and recover the unpaid wages."})
    elif status == complaints.COMPLIANCE_MONITORING:
        complaint.must("compliance-monitoring")
    elif status == "part_payment":
        owed = complaint.body["outcome"]["amount"]
        complaint.must("payments", {"amount": owed // 2 // 1000 * 1000 or owed // 2, "paid_on": today.isoformat(),
                                    "reference": f"BEFTN-{complaint.body['receipt_number']}-1"})
    elif status == complaints.COMPLIED:
        owed = complaint.body["outcome"]["amount"] - complaint.body["paid_total"]
        complaint.must("payments", {"amount": owed, "paid_on": today.isoformat(),
                                    "reference": f"BEFTN-{complaint.body['receipt_number']}-9"})
    elif status == complaints.CLOSED:
        complaint.must("closure", {"note": "The complainant confirmed the outcome by phone."})
    elif status == complaints.REOPENED:
        complaint.must("reopening", {"reason": "The complainant brought new evidence of unpaid months."})
    elif status == complaints.WITHDRAWN:
        complaint.must("withdrawal", {"reason": "The agency paid her directly; she does not want to go on."})
    elif status == complaints.ENFORCEMENT:
        complaint.must("enforcement", {"action": "recommend_licence_suspension",
                                       "note": "Recommended to BMET: suspend the agency's licence until it pays."})
    else:
        raise ValueError(f"no step to {status}")


def _outcome_terms(kind: str, amount: int, today: date, *, short: bool) -> dict:
    """Two instalments a month apart; an award planned to go unpaid is due tomorrow, so a run
    on a later day finds it past its deadline."""
    if short:
        deadline = today + timedelta(days=1)
        instalments = [{"due_on": deadline.isoformat(), "amount": amount}]
    else:
        deadline = today + timedelta(days=60)
        half = amount // 2
        instalments = [{"due_on": (today + timedelta(days=30)).isoformat(), "amount": half},
                       {"due_on": deadline.isoformat(), "amount": amount - half}]
    terms = "Paid into the complainant's bank account" if kind == AWARD else "As agreed by the parties at the hearing"
    return {"kind": kind, "amount": amount, "payment_deadline": deadline.isoformat(), "instalments": instalments,
            "terms": terms}


def _parties(plan: ComplaintPlan) -> list[str]:
    return ["complainant", "recruiting_agency"] + (["sub_agent"] if plan.sub_agent else [])


# -- request bodies ----------------------------------------------------------------------

def _registration(person: MigrantPlan) -> dict:
    return {"name_en": person.name_en, "name_bn": person.name_bn, "date_of_birth": person.date_of_birth,
            "sex": person.sex, "nid": person.nid, "passport_number": person.passport_number, "phone": person.phone,
            "district": person.district, "upazila": person.upazila,
            "destination_country": person.destination_country, "occupation": person.occupation,
            "recruiting_agency_licence": person.agency}


def _filing(person: MigrantPlan, plan: ClaimPlan, reference: str, today: date) -> dict:
    event = {"date": (today - timedelta(days=plan.event_days_ago)).isoformat()}
    body = {"type": plan.type, "migrant_reference": reference, "district": person.district, "event": event}
    if plan.type == "medical_aid":
        event["requested_amount"] = plan.requested_amount
    else:
        event["country"] = person.destination_country
        body["heirs"] = [{"name_en": h.name_en, "name_bn": h.name_bn, "relation": h.relation, "nid": h.nid,
                          "phone": h.phone, "share": {"numerator": 1, "denominator": len(plan.heirs)},
                          "payout": {"method": "mobile_wallet", "provider": "bKash",
                                     "account_number": "0" + h.phone[-10:]}} for h in plan.heirs]
    return body


def _intake(person: MigrantPlan, plan: ComplaintPlan, reference: str) -> dict:
    heirs = person.claim.heirs if person.claim else ()
    complainant = ({"name": heirs[0].name_en, "phone": heirs[0].phone, "relation": "family"} if heirs
                   else {"name": person.name_en, "phone": person.phone})
    respondents = [{"kind": "recruiting_agency", "name": people.AGENCIES[person.agency], "licence": person.agency},
                   {"kind": "employer_abroad", "name": plan.employer, "country": person.destination_country}]
    if plan.sub_agent:
        respondents.append({"kind": "sub_agent", "name": plan.sub_agent[0], "phone": plan.sub_agent[1]})
    return {"complainant": {"migrant_reference": reference, **complainant}, "channel": plan.channel,
            "category": plan.category, "district": person.district, "amount_claimed": plan.amount_claimed,
            "respondents": respondents, "restricted": plan.restricted, "narrative": _narrative(person, plan)}


NARRATIVES = {
    "unpaid_wages": "{months} months of wages unpaid in {country}; the agency stopped answering after {pronoun} "
                    "came back.",
    "contract_breach": "The job in {country} was not the one in the contract and paid less than half the wages "
                       "promised.",
    "recruitment_fraud": "Paid Tk {fee} to the agency and its dalal for a visa to {country}; no job was given.",
    "no_job_on_arrival": "On arrival in {country} there was no job; {pronoun} waited {months} months without work.",
    "passport_withheld": "The employer in {country} kept the passport for {months} months and would not return it.",
    "permit_problems": "The agency promised a work permit in {country}; the iqama was never issued.",
    "abuse_unsafe_work": "Was beaten and made to work long hours without rest in {country}.",
    "other": "Charged again for the return ticket from {country} although the contract says the employer pays.",
}


def _narrative(person: MigrantPlan, plan: ComplaintPlan) -> str:
    return NARRATIVES[plan.category].format(
        months=3 + plan.amount_claimed % 7, country=people.COUNTRY_NAMES[person.destination_country],
        pronoun="she" if person.sex == "female" else "he", fee=f"{plan.amount_claimed:,}")
