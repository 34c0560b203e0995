"""The retry policy (pure): which failures are tried again, how long to wait, when to give up."""

import ssl
from http.client import RemoteDisconnected

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.common import retry


def wrapped(cause, outer=OSError):
    """An error raised from `cause`, as HTTP libraries wrap what the socket said."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise outer("wrapped", inner) from inner
    except BaseException as error:
        return error


@pytest.mark.parametrize(("error", "expected"), [
    (wrapped(ConnectionRefusedError(111, "Connection refused")), retry.REFUSED),
    (wrapped(FileNotFoundError(2, "No such file or directory")), retry.REFUSED),
    (wrapped(ConnectionResetError(104, "Connection reset by peer")), retry.CUT),
    (wrapped(RemoteDisconnected("Remote end closed connection without response")), retry.CUT),
    (wrapped(BrokenPipeError(32, "Broken pipe")), retry.CUT),
    (wrapped(ssl.SSLCertVerificationError("certificate verify failed")), None),
    (wrapped(TimeoutError("timed out")), None),
    (ValueError("not a connection"), None),
])
def test_connection_failures_are_told_apart(error, expected):
    assert retry.connection_failure(error) == expected


def test_a_reason_attribute_is_followed():
    outer = OSError("max retries exceeded")
    outer.reason = OSError("new connection", ConnectionRefusedError(111, "refused"))
    assert retry.connection_failure(outer) == retry.REFUSED


def test_only_a_refused_connection_resends_a_request_that_is_not_repeatable():
    assert retry.may_resend(retry.REFUSED, repeatable=False)
    assert not retry.may_resend(retry.CUT, repeatable=False)
    assert retry.may_resend(retry.CUT, repeatable=True)
    assert not retry.may_resend(None, repeatable=True)


@pytest.mark.parametrize(("status", "message", "repeatable", "expected"), [
    (429, "too many requests", False, True),
    (503, "", False, True),
    (500, "", True, True),
    (500, "", False, False),
    (502, "", True, True),
    (504, "", True, True),
    (504, "", False, False),
    (500, "etcdserver: leader changed", True, True),
    (409, "Container abc is restarting, wait until the container is running", False, True),
    (409, "Operation cannot be fulfilled: the object has been modified", True, False),
    (400, "", True, False),
    (401, "", True, False),
    (403, "", True, False),
    (404, "", True, False),
    (422, "", True, False),
    (200, "", True, False),
])
def test_which_answers_are_transient(status, message, repeatable, expected):
    assert retry.transient_answer(status, message, repeatable) is expected


def test_retry_after_in_seconds_or_as_a_date():
    assert retry.retry_after("3") == 3.0
    assert retry.retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412485.0) == pytest.approx(5.0)
    assert retry.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412485.0) == 0.0
    assert retry.retry_after(None) is None
    assert retry.retry_after("soon") is None


def test_pauses_double_up_to_a_cap_with_half_of_them_random():
    assert [retry.pause(attempt, rand=lambda: 0.0) for attempt in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert [retry.pause(attempt, rand=lambda: 1.0) for attempt in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry.pause(30, rand=lambda: 1.0) == retry.LONGEST_PAUSE


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_tries_stop_after_the_attempt_limit():
    clock = Clock()
    tries = retry.Tries(clock=clock, rand=lambda: 0.0)
    pauses = []
    while (wait := tries.next_pause()) is not None:
        pauses.append(wait)
    assert len(pauses) == retry.MAX_ATTEMPTS - 1
    assert tries.count == retry.MAX_ATTEMPTS
    assert tries.summary() == f"tried {retry.MAX_ATTEMPTS} times over 0s"


def test_tries_stop_when_the_next_pause_would_pass_the_time_budget():
    clock = Clock()
    tries = retry.Tries(clock=clock, rand=lambda: 1.0)
    clock.now = retry.MAX_SECONDS - 0.1
    assert tries.next_pause() is None
    assert tries.count == 1


def test_retry_after_is_honoured_and_too_long_a_one_ends_the_tries():
    clock = Clock()
    tries = retry.Tries(clock=clock, rand=lambda: 0.0)
    assert tries.next_pause(asked=4.0) == 4.0
    assert tries.next_pause(asked=retry.MAX_SECONDS + 1) is None


def test_the_final_message_names_the_engine_and_the_tries():
    clock = Clock()
    tries = retry.Tries(clock=clock)
    tries.next_pause()
    clock.now = 12.4
    message = retry.gave_up("docker_host: the Docker engine at unix:///x", "HTTP 503: busy", tries)
    assert message == ("docker_host: the Docker engine at unix:///x kept failing (HTTP 503: busy); "
                       "tried 2 times over 12s")
