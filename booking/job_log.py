"""One line per run of a scheduled command, for people and for monitors alike.

Every job (``send-mail``, ``queue-reminders``, ``expire-waitlist-offers``, ``backup`` …) ends
by printing exactly one logfmt line on standard output, whatever happened::

    ts=2026-05-04T09:00:01Z job=send-mail status=ok seconds=0.21 sent=2 failed=0 … msg="Mail: …"

``status`` is ``ok``; ``failed`` when the job ran but did not do all of its work (it then exits
1); ``refused`` when it would not start (a missing setting, a bad argument); ``error`` when it
crashed. Under systemd the line lands in the journal (``journalctl -u museum-job@send-mail``),
under cron in the log file the crontab appends to; a monitor alerts on a ``status`` other than
``ok`` or on the line not appearing at all.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click


@dataclass
class JobRun:
    name: str
    status: str = "ok"
    figures: dict = field(default_factory=dict)
    message: str = ""

    def report(self, message: str, **figures) -> None:
        """What the run did: a sentence for people and figures for machines."""
        self.message = message
        self.figures.update(figures)

    def fail(self) -> None:
        """The run did not do all of its work (the command will exit 1)."""
        self.status = "failed"

    def line(self, seconds: float) -> str:
        fields = {"ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "job": self.name,
                  "status": self.status, "seconds": f"{seconds:.2f}", **self.figures}
        if self.message:
            fields["msg"] = self.message
        return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


def _value(value) -> str:
    text = "" if value is None else str(value)
    if text and not any(ch in text for ch in ' "=\\\n\t'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


@contextlib.contextmanager
def job_run(name: str) -> Iterator[JobRun]:
    """Time the block and print its one line at the end, also when it raises."""
    run = JobRun(name)
    started = time.monotonic()
    try:
        yield run
    except click.ClickException as error:
        run.status, run.message = "refused", error.format_message()
        raise
    except SystemExit as error:
        if error.code not in (0, None):
            run.status = "failed"
        raise
    except Exception as error:
        run.status, run.message = "error", f"{type(error).__name__}: {error}"
        raise
    finally:
        click.echo(run.line(time.monotonic() - started))
