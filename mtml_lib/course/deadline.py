"""Deadlines and the late policy of a course's homework.

A deadline is a local time with its zone, as a course states it: ``"2026-12-14 23:59
Asia/Seoul"``. nbgrader keeps it in the gradebook in UTC; each submission through the exchange is
stamped with the time it was made, and one made after the deadline is late by the difference.
Students see the deadline, in their course's zone and in UTC, in the ``deadline.txt`` that
``mtml release --due`` puts beside the released notebooks.

The stamps themselves are written in UTC (``c.Exchange.timezone = "UTC"``): nbgrader writes a
zone by its abbreviation and reads it back with dateutil, which knows few of them (``KST`` is
read as UTC, so a Seoul submission would look nine hours later than it was).

The late policy is :class:`LatePolicy`, nbgrader's late-submission plugin, set in the course
folder's ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "mtml_lib.course.deadline.LatePolicy"
    c.LatePolicy.percent_per_day = 10   # of the notebook's points, per day or part of a day late
    c.LatePolicy.zero_after_days = 7    # later than this many days: no points
    c.LatePolicy.grace_minutes = 0      # a submission this little late is on time

Example:
    >>> policy = LatePolicy(percent_per_day=10, zero_after_days=3)
    >>> policy.penalty(50.0, seconds_late=3600), policy.penalty(50.0, seconds_late=4 * 86400)
    (5.0, 50.0)
    >>> parse_deadline("2026-12-14 23:59 Asia/Seoul").isoformat()
    '2026-12-14T23:59:00+09:00'
"""

from __future__ import annotations

import datetime
import math
import os
import pathlib
import zoneinfo

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Integer

from ..i18n import language as in_language
from ..i18n import translate as _
from .folder import CONFIG_FILE, CourseError, _with_environment_bin

__all__ = [
    "LatePolicy",
    "parse_deadline",
    "set_deadline",
    "deadline_of",
    "late_policy",
    "deadline_note",
    "DEADLINE_FILE",
]

#: the file beside a release's notebooks that tells students the deadline and the late policy
DEADLINE_FILE = "deadline.txt"
_FORMAT = "%Y-%m-%d %H:%M"


class LatePolicy(LateSubmissionPlugin):
    """Points off for each day or part of a day late, none after a cut-off."""

    percent_per_day = Float(10.0, help="percent of the notebook's points off per day late").tag(
        config=True
    )
    zero_after_days = Float(7.0, help="later than this many days: no points").tag(config=True)
    grace_minutes = Integer(0, help="a submission this many minutes late is on time").tag(
        config=True
    )

    def penalty(self, score: float, seconds_late: float) -> float:
        """The points off ``score`` for a submission ``seconds_late`` after the deadline."""
        if seconds_late <= self.grace_minutes * 60:
            return 0.0
        days = seconds_late / 86400
        if days > self.zero_after_days:
            return float(score)
        return min(float(score), score * self.percent_per_day / 100 * math.ceil(days))

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return self.penalty(score, total_seconds_late)

    def describe(self, language: str = "en") -> str:
        """The policy in one sentence of ``language``."""
        with in_language(language):
            text = _(
                "Late work loses {percent:g}% of its points per day or part of a day late, "
                "and gets no points more than {days:g} days late."
            ).format(percent=self.percent_per_day, days=self.zero_after_days)
            if self.grace_minutes:
                text += " " + _("Up to {minutes} minutes late counts as on time.").format(
                    minutes=self.grace_minutes
                )
        return text


def parse_deadline(text: str) -> datetime.datetime:
    """``"YYYY-MM-DD HH:MM[:SS] Zone"`` (an IANA zone such as ``Asia/Seoul`` or ``UTC``) as an
    aware time.

    Raises:
        ValueError: naming ``due``, the form it must have and what it got.
    """
    parts = str(text).split()
    try:
        if len(parts) != 3:
            raise ValueError
        clock = " ".join(parts[:2])
        form = _FORMAT + ":%S" if clock.count(":") == 2 else _FORMAT
        local = datetime.datetime.strptime(clock, form)
        zone = zoneinfo.ZoneInfo(parts[2])
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValueError(
            "`due` must be a local time and its time zone, 'YYYY-MM-DD HH:MM[:SS] Area/City' "
            f"(e.g. '2026-12-14 23:59 Asia/Seoul'); got {text!r}."
        ) from None
    return local.replace(tzinfo=zone)


def _gradebook(course: pathlib.Path):
    from nbgrader.api import Gradebook

    _with_environment_bin()  # a new gradebook runs the `alembic` command
    return Gradebook(f"sqlite:///{pathlib.Path(course) / 'gradebook.db'}")


def set_deadline(course: pathlib.Path, assignment: str, due: str) -> datetime.datetime:
    """Write ``due`` (see :func:`parse_deadline`) into the gradebook as the assignment's
    deadline; returns it, aware."""
    deadline = parse_deadline(due)
    utc = deadline.astimezone(datetime.UTC).replace(tzinfo=None)
    with _gradebook(course) as gradebook:
        gradebook.update_or_create_assignment(assignment, duedate=utc)
    return deadline


def deadline_of(course: pathlib.Path, assignment: str) -> datetime.datetime | None:
    """The assignment's deadline from the gradebook (aware, UTC), or None."""
    from nbgrader.api import MissingEntry

    with _gradebook(course) as gradebook:
        try:
            due = gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return None
    return due.replace(tzinfo=datetime.UTC) if due else None


def late_policy(course: str | os.PathLike) -> LatePolicy | None:
    """The course's late policy, as its ``nbgrader_config.py`` sets it; None where it sets none
    (nbgrader's default: no penalty)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    plugin = str(config.AssignLatePenalties.get("plugin_class", ""))
    if not plugin:
        return None
    if not plugin.endswith(LatePolicy.__name__):
        raise CourseError(
            f"the course's late-submission plugin is {plugin}; `mtml autograde` applies "
            f"{LatePolicy.__module__}.{LatePolicy.__name__} (set it in {CONFIG_FILE})."
        )
    return LatePolicy(config=config)


def deadline_note(
    deadline: datetime.datetime,
    assignment: str,
    policy: LatePolicy | None,
    language: str = "en",
) -> str:
    """What ``deadline.txt`` says: the deadline in its zone and in UTC, and the late policy."""
    utc = deadline.astimezone(datetime.UTC)
    offset = deadline.strftime("%z")
    clock = _FORMAT + (":%S" if deadline.second else "")
    with in_language(language):
        lines = [
            _("{assignment} is due {local} {zone} (UTC{offset}), that is {utc} UTC.").format(
                assignment=assignment,
                local=deadline.strftime(clock),
                zone=deadline.tzinfo,
                offset=f"{offset[:3]}:{offset[3:]}",
                utc=utc.strftime(clock),
            ),
            _("The time of a submission is when `nbgrader submit` (or Submit in JupyterLab) ran."),
        ]
        if policy is None:
            lines.append(_("Late work loses no points."))
        else:
            lines.append(policy.describe(language))
    return "\n".join(lines) + "\n"
