"""A TCP proxy a test controls, to cut the network between a service and RabbitMQ
without touching the shared broker: cut() drops every connection through it and
refuses new ones until restore(); slow_replies(s) holds everything the broker sends
back (confirms included) for s seconds, like a slow broker or network."""
from __future__ import annotations

import queue
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self.reply_delay = 0.0

    def url(self, user: str = "guest", password: str = "guest", vhost: str = "%2F") -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/{vhost}"

    def start(self) -> "TcpProxy":
        threading.Thread(target=self._accept, daemon=True, name=f"proxy-{self.port}").start()
        return self

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self._open.clear()
        self.cuts += 1
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        self._open.set()

    def slow_replies(self, seconds: float) -> None:
        """Delay every byte from the broker to its clients by `seconds` (0: no delay)."""
        self.reply_delay = seconds

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self.listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                _close(client)  # the broker is "unreachable": the client sees a dropped connection
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            replies: queue.Queue = queue.Queue()
            threading.Thread(target=self._pipe, args=(upstream, replies), daemon=True).start()
            threading.Thread(target=self._deliver, args=(replies, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink) -> None:
        """Copy from source to a socket, or stamp each chunk into a queue for _deliver."""
        try:
            while data := source.recv(65536):
                if isinstance(sink, queue.Queue):
                    sink.put((time.monotonic() + self.reply_delay, data))
                else:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            if isinstance(sink, queue.Queue):
                sink.put((0.0, b""))  # tells _deliver the stream ended; it closes the client
                self._forget(source)
            else:
                self._forget(source, sink)

    def _deliver(self, replies: queue.Queue, sink: socket.socket) -> None:
        """Send each chunk once its delay has passed, in order (a delay, not a throttle)."""
        try:
            while True:
                due, data = replies.get()
                if not data:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(sink)

    def _forget(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                self._sockets.discard(sock)
            _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
