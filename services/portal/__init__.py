"""The web portal (port 8080): server-rendered pages in Bangla and English for migrants,
families, staff and anyone without an account.

It owns no data: every page is read from, and every form sent to, the other services' HTTP
APIs with the signed-in person's token (`backends.py`). Its only database holds the sessions
(`sessions.py`: the cookie carries an opaque id; tokens stay server-side). Parts: `config.py`,
`security.py` (headers, CSRF), `i18n.py` (language, numbers, dates, taka), `errors.py` (a
service's refusal as a sentence next to its field), `signin.py`, `pages/` (the pages), `app.py`
(the factory) and `wsgi.py`.
"""
