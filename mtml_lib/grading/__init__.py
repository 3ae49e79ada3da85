"""What touches a submission's code: the bubblewrap sandbox (:mod:`.sandbox`, with the first code
inside it in :mod:`.confine`), the untrusted runner (:mod:`.untrusted`), nbgrader's execute step
in the sandbox (:mod:`.nbgrader_step`), the placeholders of unavailable library modules
(:mod:`.placeholders`), and the trusted side: the re-grade and its scoring (:mod:`.regrade`) and
the gradebook record (:mod:`.record`).

Instructor-facing; a student never needs it. The course's graders themselves (probes, checks,
reference data) live in the course folder, never in this package.
"""

from .regrade import PartScore, regrade, run_probes, score
from .sandbox import Limits, Sandbox, unavailable_reason

__all__ = ["Limits", "PartScore", "Sandbox", "regrade", "run_probes", "score", "unavailable_reason"]
