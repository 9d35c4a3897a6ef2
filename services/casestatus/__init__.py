"""The case-status service: one timeline per migrant and per case, in Bangla and English, fed
only by other services' events, and an SMS when a case reaches a step that matters (issue 11).

Domain (no I/O): entries.py (an event -> a timeline entry and who may see it), next_steps.py
(the facts of each case, folded from its events, -> what happens next), notifications.py (who
is told what, when, and once), catch_up.py (a replayed snapshot -> entries and facts), with
dates.py and names.py (names.json). Service layer: service.py. Adapters: repository.py
(entries, facts, cases) and notification_repository.py. Entry points: consumer.py (events and
replays), api.py / wsgi.py (timelines), the SMS sender."""
