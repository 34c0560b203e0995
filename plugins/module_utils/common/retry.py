# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an engine call is worth sending again (pure): which failures pass by themselves, how long to wait
before the next attempt, and when to give up.

An engine that restarts refuses connections or cuts them for a few seconds; an API server under load or
changing its etcd leader answers 429, 500, 503 or 504 for a moment. Those are tried again with a growing,
jittered pause, at most MAX_ATTEMPTS times within MAX_SECONDS. Anything else (400, 403, 404, 409, 422, a
certificate the client refuses, a timeout) is permanent and goes back to the caller at once.
"""

from __future__ import annotations

import email.utils
import random
import ssl
import time

MAX_ATTEMPTS = 8
MAX_SECONDS = 30.0
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 8.0

# Answers of an engine that did nothing with the request: it may be sent again whatever it was.
NOT_DONE = frozenset({429, 503})
# Answers after which the request may have been carried out: only a request that is safe to repeat goes again.
MAYBE_DONE = frozenset({500, 502, 504})
# Docker's refusal to act on a container that restarts: nothing was done, and a moment later it will be.
RESTARTING = "is restarting"
# The API server's storage choosing a new leader: gone a moment later.
ETCD_PASSING = ("etcdserver: leader changed", "etcdserver: request timed out")

# How a connection failed: before the request left (refused), or after it may have reached the engine (cut).
REFUSED, CUT = "refused", "cut"


def _causes(error):
    """The error and every error it was raised from, wraps or names as its reason."""
    seen, pending = set(), [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        pending.extend(cause for cause in linked if isinstance(cause, BaseException))


def connection_failure(error):
    """REFUSED, CUT, or None when the error is not a connection that may work on the next attempt."""
    causes = list(_causes(error))
    if any(isinstance(cause, (ssl.SSLError, TimeoutError)) for cause in causes):
        return None  # a refused certificate stays refused; a timeout already waited long enough
    # a Unix socket that is not there yet counts as refused: the engine recreates it when it starts
    if any(isinstance(cause, (ConnectionRefusedError, FileNotFoundError)) for cause in causes):
        return REFUSED
    if any(isinstance(cause, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for cause in causes):
        return CUT
    return None


def may_resend(failure, repeatable):
    """Whether a request whose connection failed this way may go again."""
    return failure == REFUSED or (failure == CUT and repeatable)


def transient_answer(status, message, repeatable):
    """Whether an HTTP answer is worth another attempt.

    `repeatable`: sending the request twice does what sending it once does (or the engine refuses the
    second one, as a create that exists or a write of a stale version).
    """
    if status in NOT_DONE:
        return True
    if status == 409:
        return RESTARTING in (message or "")
    if status in MAYBE_DONE or (status >= 500 and any(words in (message or "") for words in ETCD_PASSING)):
        return repeatable
    return False


def retry_after(value, now=None):
    """Seconds a Retry-After header asks to wait (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def pause(attempt, rand=random.random):
    """Seconds to wait after the given failed attempt (1, 2, ...): doubling, capped, with jitter.

    Half of it is random so that the runs a restart interrupted together do not come back together.
    """
    longest = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (attempt - 1))
    return longest / 2 + rand() * longest / 2


class Tries:
    """The attempts at one call: how many were made, how long they took, how long to wait for the next."""

    def __init__(self, clock=time.monotonic, rand=random.random, attempts=MAX_ATTEMPTS, seconds=MAX_SECONDS):
        self.clock, self.rand = clock, rand
        self.limit, self.budget = attempts, seconds
        self.started = clock()
        self.count = 1

    def elapsed(self):
        return self.clock() - self.started

    def next_pause(self, asked=None):
        """Seconds to wait before the next attempt, or None when there is to be none.

        `asked` is what the engine's Retry-After said: never sooner than that, and none at all when
        that is past the time left.
        """
        if self.count >= self.limit:
            return None
        wait = pause(self.count, self.rand)
        if asked is not None:
            wait = max(wait, asked)
        if self.elapsed() + wait > self.budget:
            return None
        self.count += 1
        return wait

    def wait(self, seconds):
        time.sleep(seconds)

    def summary(self):
        """How hard it was tried, for the final message."""
        return f"tried {self.count} time{'s' if self.count != 1 else ''} over {self.elapsed():.0f}s"


def gave_up(engine, failure, tries):
    """The final message: which engine, what it kept answering, and how hard it was tried."""
    return f"{engine} kept failing ({failure}); {tries.summary()}"
