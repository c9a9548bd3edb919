"""Run named steps, print `✅ step (ms)` or `❌ step: error` for each, and a summary (selftest, smoke)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


class StepFailed(Exception):
    """A step ran but its result is wrong (the message says what was expected)."""


class Unreachable(Exception):
    """The server cannot be reached: report once and skip the remaining steps."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def unexpected(err: Exception) -> str:
    """An error the step did not anticipate (e.g. a response without an expected key), named by its type."""
    if isinstance(err, StepFailed):
        return str(err)
    if isinstance(err, KeyError):
        return f"the response has no {err}"
    return f"{type(err).__name__}: {err}"


@dataclass
class Steps:
    out: TextIO
    describe: Callable[[Exception], str] = unexpected
    results: list[tuple[str, bool]] = field(default_factory=list)
    stopped: str | None = None

    def run(self, name: str, action: Callable[[], str | None]) -> bool:
        """Run one step; True when it passed. After Unreachable, later steps are not run."""
        if self.stopped is not None:
            return False
        started = time.perf_counter()
        try:
            note = action()
        except Unreachable as err:
            self.stopped = str(err)
            self._line(f"❌ {name}: {err}")
            self.results.append((name, False))
            return False
        except Exception as err:  # a tool reports every failure and goes on with the next step
            self._line(f"❌ {name}: {self.describe(err)}")
            self.results.append((name, False))
            return False
        ms = (time.perf_counter() - started) * 1000
        self._line(f"✅ {name} ({ms:.1f} ms)" + (f" {note}" if note else ""))
        self.results.append((name, True))
        return True

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @property
    def failed(self) -> list[str]:
        return [name for name, ok in self.results if not ok]

    def summary(self, what: str) -> int:
        """Print the summary line; the exit code (0 all passed, 1 otherwise)."""
        passed = len(self.results) - len(self.failed)
        if self.stopped is not None:
            self._line(f"{what}: FAILED at step {len(self.results)} (unreachable); the remaining steps did not run")
            return 1
        if self.failed:
            self._line(f"{what}: {passed}/{len(self.results)} steps passed; failed: {', '.join(self.failed)}")
            return 1
        self._line(f"{what}: all {passed} steps passed")
        return 0
