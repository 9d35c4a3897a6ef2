"""The case-status service: one timeline per migrant and per case, in Bangla and English, fed
only by other services' events, and an SMS when a case reaches a step that matters (issue 11).

Domain only so far, no I/O: entries.py (an event -> a timeline entry and who may see it),
next_steps.py (the facts of each case, folded from its events, -> what happens next),
notifications.py (who is told what, when, and once), with dates.py and names.py (names.json).
The service layer (consumer, repository, API, sender) comes next."""
