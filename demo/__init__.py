"""Demo data for a new user's `make run`: `make demo` (python -m demo, see __main__.py).

plan.py decides who the people are and where each case ends (no I/O, the same for a seed);
load.py takes one person through the services' APIs; client.py is the HTTP, the tokens and
the waiting for one service to learn, by events, what another did.
"""
