"""How every service's API runs under gunicorn, in one place (make run, the tests, the image):

    gunicorn -c python:shared.http.server --bind 0.0.0.0:8001 services.registration.wsgi:app

Threaded workers, so a client that stalls holds one thread, not a whole worker: the
app cuts off a request body that stops arriving (BODY_READ_TIMEOUT, 408), and waiting
for a new connection's first bytes happens off the thread pool. A buffering reverse
proxy in front is still what absorbs slow clients in production (see README).
The module-level names below are gunicorn settings; command-line flags override them.
"""
from __future__ import annotations

import json
import os

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

worker_class = "shared.http.server.ProblemWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# gthread's heartbeat does not depend on requests, so this only catches a wedged worker.
timeout = 30
keepalive = 5
# gunicorn's defaults, spelled out: longer request lines are 414, longer headers 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


class _Captured:
    """Stands in for the client socket while gunicorn writes its HTML error page."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.data += data

    send = sendall


class ProblemWorker(ThreadWorker):
    """gunicorn's own refusals (bad request line, 414, 431, ...) as application/problem+json,
    like every other error: gunicorn still decides the status and logs it."""

    def handle_error(self, req, client, addr, exc):
        page = _Captured()
        super().handle_error(req, page, addr, exc)
        status_line = page.data.partition(b"\r\n")[0].decode("latin-1").split(" ", 2)
        if len(status_line) < 3 or not status_line[1].isdigit():
            return
        status, reason = int(status_line[1]), status_line[2]
        problem = {"type": f"urn:probashi:problem:{reason.lower().replace(' ', '-')}", "title": reason,
                   "status": status}
        if status < 500:
            problem["detail"] = str(exc)
        body = json.dumps(problem).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        try:
            util.write_nonblock(client, head + body)
        except Exception:  # the client may be gone already; gunicorn ignores this too
            self.log.debug("Failed to send error message.")
