"""A module run outlasts a Docker engine that restarts or is busy, and names the engine when it does not come back.

The engine is reached through a TCP front on this machine that this test controls: closed at first (the
engine restarting), answering 503 for a while, then passing everything on to the engine's socket.
"""

import contextlib
import socket
import threading
import time

import pytest
from ansible_runner import run_module

DOCKER_SOCKET = "/var/run/docker.sock"
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 22\r\n" \
       b"Connection: close\r\n\r\n{\"message\": \"paused\"}\n"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pipe(source, target):
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for end in (source, target):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


class EngineFront:
    """Listens on a TCP port after `opens_after` seconds; answers the first `busy` requests with 503."""

    def __init__(self, opens_after=0.0, busy=0):
        self.port = _free_port()
        self.busy, self.answered_busy = busy, 0
        self.stopped = threading.Event()
        self.listener = None
        self.thread = threading.Thread(target=self._serve, args=(opens_after,), daemon=True)
        self.thread.start()

    @property
    def host(self):
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self, opens_after):
        if self.stopped.wait(opens_after):
            return
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                client, _address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        if self.answered_busy < self.busy:
            self.answered_busy += 1
            request = b""
            while b"\r\n\r\n" not in request and (chunk := client.recv(4096)):
                request += chunk
            client.sendall(BUSY)
            client.close()
            return
        engine = socket.socket(socket.AF_UNIX)
        engine.connect(DOCKER_SOCKET)
        threading.Thread(target=_pipe, args=(engine, client), daemon=True).start()
        _pipe(client, engine)

    def close(self):
        self.stopped.set()
        if self.listener:
            self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture()
def front(docker_client):
    fronts = []

    def make(**options):
        fronts.append(EngineFront(**options))
        return fronts[-1]

    yield make
    for made in fronts:
        made.close()


def test_a_run_started_while_the_engine_restarts_succeeds_once_it_answers(front):
    engine = front(opens_after=2.0, busy=2)
    started = time.monotonic()
    result = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "docker_host": engine.host})
    assert isinstance(result["workspaces"], list)
    assert engine.answered_busy == 2
    assert time.monotonic() - started >= 2.0, "the run cannot have finished before the engine listened"


def test_an_engine_that_stays_busy_is_named_with_how_hard_it_was_tried(front):
    engine = front(busy=100)
    failed = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "docker_host": engine.host},
                        expect_failure=True)
    assert failed["msg"].startswith(f"docker_host: the Docker engine at {engine.host} kept failing (HTTP 503: paused)")
    assert "tried " in failed["msg"] and " times over " in failed["msg"]
