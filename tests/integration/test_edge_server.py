"""The API as it runs, under gunicorn (tests/processes.py starts it the way every
deployment does): slow clients, gunicorn's own refusals and 405s."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from shared.auth import issue_token
from shared.http import server
from tests import processes

pytestmark = pytest.mark.integration

STALLED_CLIENTS = 6  # three times the workers the API used to run, each of which one stalled body held
BODY_READ_TIMEOUT = 6.0


@pytest.fixture
def api(infra, tmp_path):
    settings = infra.settings("registration", body_read_timeout=BODY_READ_TIMEOUT)
    process, base = processes.api("registration", settings, tmp_path)
    process.start()
    try:
        processes.wait_ready(base, process)
        yield base, settings, process
    finally:
        process.stop()


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def exchange(base: str, raw: bytes, timeout: float = 15.0) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer: (status, headers, body)."""
    with socket.create_connection(address(base), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict, bytes]:
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < content_length(answer):
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def content_length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def assert_problem(headers: dict, body: bytes, status: int) -> dict:
    assert headers["content-type"] == "application/problem+json", (headers, body[:300])
    problem = json.loads(body)
    assert problem["status"] == status
    return problem


def test_stalled_request_bodies_neither_block_the_service_nor_hang_forever(api):
    base, settings, _ = api
    token = issue_token(settings, subject="slow", role="udc_operator", udc_centre="UDC Test")
    host, _ = address(base)
    stalled = []
    try:
        for _ in range(STALLED_CLIENTS):  # a valid token, a body announced, a few bytes, then nothing
            sock = socket.create_connection(address(base), timeout=30)
            sock.sendall(f"POST /api/v1/migrants HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                         "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"name_en\": ".encode())
            stalled.append(sock)

        assert get(f"{base}/health/live", timeout=BODY_READ_TIMEOUT / 2) == 200
        assert get(f"{base}/health/ready", timeout=BODY_READ_TIMEOUT / 2) == 200
        for sock in stalled:  # still held: the health answers did not wait for them to be cut off
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
            sock.setblocking(True)

        for sock in stalled:  # then each stalled upload is cut off with a 408, not a hang or a bare 500
            status, headers, body = read_answer(sock)
            assert status == 408
            assert_problem(headers, body, 408)
    finally:
        for sock in stalled:
            sock.close()
    assert get(f"{base}/health/live", timeout=5) == 200


def test_clients_that_stall_within_their_headers_are_cut_off_too(infra, tmp_path):
    """No token needed for this one: more half-sent requests than the API has threads."""
    settings = infra.settings("registration", header_read_timeout=3.0)
    process, base = processes.api("registration", settings, tmp_path)
    process.start()
    host, _ = address(base)
    stalled = []
    try:
        processes.wait_ready(base, process)
        for _ in range(2 * server.threads + 4):  # processes.api starts 2 workers
            sock = socket.create_connection(address(base), timeout=30)
            sock.sendall(f"GET /health/live HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
            stalled.append(sock)
        assert get(f"{base}/health/live", timeout=20) == 200
        for sock in stalled:  # answered and closed, not held until the client gives up
            status, headers, body = read_answer(sock)
            assert status == 408
            assert_problem(headers, body, 408)
    finally:
        for sock in stalled:
            sock.close()
        process.stop()


def test_a_stalled_upload_is_cut_off_with_408_too(infra, tmp_path):
    settings = infra.settings("documents", body_read_timeout=2.0)
    process, base = processes.api("documents", settings, tmp_path)
    process.start()
    try:
        processes.wait_ready(base, process)
        token = issue_token(settings, subject="slow", role="udc_operator", udc_centre="UDC Test")
        part = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="c.pdf"\r\n'
                b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n")
        status, headers, body = exchange(base, (f"POST /api/v1/documents HTTP/1.1\r\nHost: x\r\n"
                                                f"Authorization: Bearer {token}\r\nContent-Length: 100000\r\n"
                                                "Content-Type: multipart/form-data; boundary=B\r\n\r\n").encode() + part)
        assert status == 408
        assert_problem(headers, body, 408)
    finally:
        process.stop()


def test_an_overlong_request_line_is_414_problem_json(api):
    base, _, _ = api
    status, headers, body = exchange(base, f"GET /api/v1/migrants?q={'x' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 414
    assert_problem(headers, body, 414)


def test_an_overlong_header_is_431_problem_json(api):
    base, _, _ = api
    status, headers, body = exchange(base, f"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: {'y' * 9000}\r\n\r\n".encode())
    assert status == 431
    assert_problem(headers, body, 431)


def test_a_malformed_request_is_400_problem_json(api):
    base, _, _ = api
    status, headers, body = exchange(base, b"BR@KEN / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400
    assert_problem(headers, body, 400)


def test_method_not_allowed_says_which_are(api):
    base, settings, _ = api
    token = issue_token(settings, subject="a", role="admin")
    status, headers, body = exchange(base, f"DELETE /api/v1/migrants HTTP/1.1\r\nHost: x\r\n"
                                           f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())
    assert status == 405
    assert_problem(headers, body, 405)
    assert {"GET", "POST"} <= {method.strip() for method in headers["allow"].split(",")}
    status, headers, _ = exchange(base, b"POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                        b"Connection: close\r\n\r\n")
    assert status == 405 and "GET" in headers["allow"]
