"""nbgrader's exchange on one server, with the checks nbgrader leaves to a warning.

nbgrader's exchange is a folder every user can write into: a student's ``nbgrader submit``
creates ``inbound/<student>+<assignment>+<time>+<random>``, which no other student can list
(``inbound`` is write-and-enter only) or guess (the random part). Two things nbgrader takes on the
submitter's word:

* **whose it is**: ``nbgrader submit --student=someone-else`` (or a plain ``mkdir``) makes a
  submission in another student's name; nbgrader's collect only warns. :class:`OwnedCollect`
  refuses every submission whose folder is not owned by the Unix user it names, before it picks
  each student's latest, so a forgery can neither replace nor shadow the real one;
* **when it was made**: the time in its name and ``timestamp.txt`` are written by the student's
  own process. The kernel's change time of the folder and of everything in it (``ctime``, which
  no user can set back) is never earlier than the real submission, so :class:`OwnedCollect`
  takes the later of the two as the time of submission and says so where they differ.

Set in the course folder's ``nbgrader_config.py`` (so formgrader's Collect button uses it too)::

    c.ExchangeFactory.collect = "mtml_lib.course.exchange.OwnedCollect"

What this supports: one server (or a shared POSIX filesystem) where every user is a Unix user of
their own, and one course or several (``c.Exchange.path_includes_course = True``). Where every
user is the same Unix user (Zero to JupyterHub's default pods all run as ``jovyan``, uid 1000),
owners mean nothing and a submission's name cannot be checked: ``deploy/z2jh/`` gives each user
a uid of their own and :attr:`OwnedCollect.owners` their names.
"""

from __future__ import annotations

import datetime
import glob
import os
import pathlib
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import parse_utc
from traitlets import Bool, Dict, Integer, Unicode

__all__ = ["OwnedCollect", "owner_of", "changed_at", "STAMP_FORMAT"]

#: how a corrected submission time is written (nbgrader reads it back with its parse_utc)
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
#: a stamp this much earlier than the folder's change time is taken as written by hand
_TOLERANCE = datetime.timedelta(minutes=2)


def owner_of(path: str | os.PathLike, names: dict[int, str] | None = None) -> str:
    """Who owns ``path``: ``names[uid]`` where given, else the Unix user of the uid (``uid <n>``
    for a uid with no account)."""
    uid = os.stat(path).st_uid
    if names and uid in names:
        return names[uid]
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def changed_at(path: str | os.PathLike) -> datetime.datetime:
    """The latest change time of ``path`` and everything in it (naive UTC, as nbgrader's)."""
    items = [pathlib.Path(path), *pathlib.Path(path).rglob("*")]
    latest = max(item.lstat().st_ctime for item in items)
    return datetime.datetime.fromtimestamp(latest, datetime.UTC).replace(tzinfo=None)


class OwnedCollect(ExchangeCollect):
    """nbgrader's collect that refuses a submission in another's name and does not take a
    submission's own word for its time."""

    # nbgrader's own check only warns, and knows no names but the system's: this class checks
    check_owner = Bool(False, help="nbgrader's warning; OwnedCollect refuses instead").tag(
        config=True
    )
    owners = Dict(
        key_trait=Integer(),
        value_trait=Unicode(),
        help="uid -> student, where the exchange's uids have no account here (Kubernetes pods, "
        "mtml_lib.course.hub.roster_uids); other uids are looked up in the system's users",
    ).tag(config=True)

    def init_src(self):
        super().init_src()  # the paths, the deadline, and nbgrader's checks of the folder
        student = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student}+{self.coursedir.assignment_id}+*")
        owned = []
        for record in (self._path_to_record(path) for path in glob.glob(pattern)):
            owner = owner_of(os.path.join(self.inbound_path, record["filename"]), self.owners)
            if owner == record["username"]:
                owned.append(record)
                continue
            why = f"made by {owner}, in the name of {record['username']}: not collected"
            self.log.error("Refused submission %s: %s", record["filename"], why)
        latest_first = {
            name: self._sort_by_timestamp(records)
            for name, records in groupby(owned, lambda r: r["username"]).items()
        }
        self.src_records = []
        for records in latest_first.values():
            if self.duedate is not None and self.before_duedate:
                on_time = [r for r in records if r["timestamp"] <= self.duedate]
                records = on_time or records
            self.src_records.append(records[0])

    def copy_files(self):
        super().copy_files()
        for record in self.src_records:
            source = os.path.join(self.inbound_path, record["filename"])
            target = pathlib.Path(
                self.coursedir.format_path(
                    self.coursedir.submitted_directory,
                    record["username"],
                    self.coursedir.assignment_id,
                )
            )
            stamp = target / "timestamp.txt"
            if not stamp.exists():
                continue
            claimed = parse_utc(stamp.read_text(encoding="utf-8").strip())
            changed = changed_at(source)
            if claimed < changed - _TOLERANCE:
                self.log.warning(
                    "%s: the submission says %s UTC but was last changed %s UTC; "
                    "its time of submission is taken as %s UTC",
                    record["filename"],
                    claimed,
                    changed,
                    changed,
                )
                stamp.write_text(changed.strftime(STAMP_FORMAT), encoding="utf-8")
