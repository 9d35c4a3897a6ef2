"""How every service's API runs under gunicorn, in one place (make run, the tests, the image):

    gunicorn -c python:shared.http.server --bind 0.0.0.0:8001 services.registration.wsgi:app

Threaded workers, so a client that stalls holds one thread, not a whole worker, and
only for a while: gunicorn waits for a new connection's first bytes off the thread pool,
the worker below bounds the request line and headers (HEADER_READ_TIMEOUT) and the app
cuts off a request body that stops arriving (BODY_READ_TIMEOUT, 408). A buffering
reverse proxy in front is still what absorbs slow clients in production (see README).
The module-level names below are gunicorn settings; command-line flags override them.

Metrics: the workers are separate processes, so each writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and /metrics adds them up.
Without the variable a fresh directory under TMPDIR is made for this server and removed when
it stops; a given one is emptied at start (counts of an earlier run must not be added in).
It is set here, in the master, before any worker imports prometheus_client; a worker that
exits has its live gauges dropped (child_exit).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from shared.config import Settings

_settings = Settings.from_env("api")

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

_made_metrics_dir: list[str] = []  # the directory on_starting made, removed on exit


def on_starting(server) -> None:
    """In the master, before the workers (which inherit the environment) exist."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _made_metrics_dir.append(tempfile.mkdtemp(prefix="probashi-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir[0]
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    for directory in _made_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)


def write_problem(sock, status: int, reason: str, detail: str | None = None) -> None:
    """A whole problem+json answer, written straight to the client; the connection closes after it."""
    problem = {"type": f"urn:probashi:problem:{reason.lower().replace(' ', '-')}", "title": reason, "status": status}
    if detail:
        problem["detail"] = detail
    body = json.dumps(problem).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


class _HeaderDeadline:
    """gunicorn's request parser, with a time limit on each request's line and headers:
    past it the client gets a 408 and the connection ends, as gunicorn ends any other."""

    def __init__(self, parser, conn):
        self.parser, self.conn = parser, conn

    def __iter__(self):
        return self

    def __next__(self):
        self.conn.sock.settimeout(_settings.header_read_timeout)
        try:
            return next(self.parser)
        except TimeoutError:
            try:
                write_problem(self.conn.sock, 408, "Request Timeout",
                              f"The request line and headers did not arrive within {_settings.header_read_timeout:g} s.")
            except OSError:
                pass
            raise StopIteration from None  # gunicorn closes the connection quietly
        finally:
            self.conn.sock.settimeout(None)  # headers are in; the app bounds the body (BODY_READ_TIMEOUT)

    def __getattr__(self, name):
        return getattr(self.parser, name)


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
    """gunicorn's threaded worker, with a time limit on reading a request's headers and
    its own refusals (bad request line, 414, 431, ...) as application/problem+json."""

    def handle(self, conn):
        # gunicorn reads the request line and headers with no time limit once the first
        # bytes arrived: a few half-sent requests (no token needed) would hold every thread.
        if "init" not in vars(conn):  # once per connection
            parser_init = conn.init

            def init_with_deadline():
                parser_init()
                if conn.parser is not None and not conn.is_http2 and not isinstance(conn.parser, _HeaderDeadline):
                    conn.parser = _HeaderDeadline(conn.parser, conn)
            conn.init = init_with_deadline
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):
        page = _Captured()
        super().handle_error(req, page, addr, exc)  # gunicorn picks the status and logs as usual
        status_line = page.data.partition(b"\r\n")[0].decode("latin-1").split(" ", 2)
        if len(status_line) < 3 or not status_line[1].isdigit():
            return
        status, reason = int(status_line[1]), status_line[2]
        try:
            write_problem(client, status, reason, str(exc) if status < 500 else None)
        except Exception:  # the client may be gone already; gunicorn ignores this too
            self.log.debug("Failed to send error message.")
