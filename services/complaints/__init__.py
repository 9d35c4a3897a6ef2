"""The complaints service: disputes against recruiting agencies, from intake to award and
its enforcement: intake with a receipt number, hearings, referrals, awards followed until paid
or enforced, evidence from the vault, confidential complaints (service.py and its siblings)."""
