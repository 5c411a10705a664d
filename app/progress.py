"""Progress of long command-line tasks (reindexing, slot generation) for people and logs."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressReporter:
    """``progress(done, total)`` for the CLI.

    On a terminal: one line redrawn with ``\\r`` (bar, counts, percent, rate), at most
    every ``redraw_seconds``, finished with a newline. Elsewhere (logs, CI): a plain line
    each time another ``every_percent`` is done, and at the end.
    """

    def __init__(self, stream: TextIO | None = None, *, label: str = "indexed",
                 tty: bool | None = None, every_percent: int = 10, width: int = 30,
                 redraw_seconds: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.label = label
        self.every_percent = max(1, every_percent)
        self.width = width
        self.redraw_seconds = redraw_seconds
        self.clock = clock
        self.started = clock()
        self._last_draw = None
        self._next_percent = 0
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        if self._finished:
            return
        total = max(total, done)
        percent = 100 if total == 0 else int(done * 100 / total)
        final = done >= total
        if self.tty:
            self._draw(done, total, percent, final)
        elif percent >= self._next_percent or final:
            self.stream.write(f"{self.label} {done:,}/{total:,} ({percent}%) "
                              f"{self._rate(done):,.0f}/s\n")
            self._next_percent = (percent // self.every_percent + 1) * self.every_percent
        if final:
            self._finished = True
        self.stream.flush()

    def _draw(self, done: int, total: int, percent: int, final: bool) -> None:
        now = self.clock()
        if not final and self._last_draw is not None and \
                now - self._last_draw < self.redraw_seconds:
            return
        self._last_draw = now
        filled = self.width if total == 0 else self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} {percent:3d}% "
                          f"{self._rate(done):,.0f}/s")
        if final:
            self.stream.write("\n")

    def _rate(self, done: int) -> float:
        elapsed = self.clock() - self.started
        return done / elapsed if elapsed > 0 else 0.0
