"""nbgrader configuration of the workbook's homework (the course folder is this one)."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "mtml-workbook"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

# Grading: every cell has a time limit; a cell that runs past it is interrupted and the
# rest of the notebook still runs. `mtml autograde` re-grades every part outside the kernel.
# The limit is 30 s on an idle machine and grows with the machine's load, up to 4 times, so
# that honest work still passes on a shared machine (mtml_lib.grading.time_limit); a cell
# stopped for time says so in the course's language (set below, with the edition).
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True


# The edition: a release holds the text of the course's language (edition.json beside this file;
# none: English), with the translated twins of the source resolved and dropped. `mtml edition`
# writes the course folder of another edition.
from mtml_lib.course.editions.nbgrader_preprocessor import generate_preprocessors  # noqa: E402
from mtml_lib.course.folder import STUBS, code_stub, course_language  # noqa: E402

c.GenerateAssignment.preprocessors = generate_preprocessors()
c.SelectEdition.language = course_language(c.CourseDirectory.root)
# the translations of the code cells' comments and test messages (hidden ones included: the
# catalog stays in the course folder, with the graders)
c.SelectEdition.locale_dir = os.path.join(c.CourseDirectory.root, "graders", "locale")
# what stands where a solution was, in the edition's language: the code stub's comment and the
# written answers' placeholder
c.ClearSolutions.code_stub = code_stub(c.SelectEdition.language)
c.ClearSolutions.text_stub = STUBS[c.SelectEdition.language]["answer"]

# nbgrader's own Execute (`nbgrader validate`) on a shared machine, as `mtml check` and
# `mtml autograde` run it (mtml_lib.grading.time_limit): the limit grows with the load, a cell
# stopped for time says why in the course's language, and the kernel takes the threads the load
# leaves free and runs the homework as the grader does (MTML_AUTOGRADE: the smoke budgets). The
# base is fixed here: change c.Execute.timeout above, not on the command line.
from mtml_lib.grading.time_limit import CellTimeLimit, kernel_arguments, timeout_error  # noqa: E402

c.Execute.timeout_func = CellTimeLimit(c.Execute.timeout)
c.Execute.error_on_timeout = timeout_error(c.SelectEdition.language, c.Execute.timeout)
c.Execute.extra_arguments = kernel_arguments()

# The feedback shows each test's verdict and messages, never a hidden test's source: nbgrader's
# own feedback would show the hidden tests the autograder put back to run them.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from mtml_lib.course.hidden_tests import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Homework through nbgrader's exchange (a class's hub, README "Teaching a class"): a submission in
# another student's name is refused, not only warned about, and a submission's time is not taken
# on its own word (mtml_lib.course.exchange); nbgrader's time stamps are written in UTC, which it
# reads back right (the deadlines keep their own zone: `mtml release --due`).
c.ExchangeFactory.collect = "mtml_lib.course.exchange.OwnedCollect"
c.Exchange.timezone = "UTC"

# The late policy (mtml_lib.course.deadline): points off per day or part of a day late.
c.AssignLatePenalties.plugin_class = "mtml_lib.course.deadline.LatePolicy"
c.LatePolicy.percent_per_day = 10
c.LatePolicy.zero_after_days = 7
c.LatePolicy.grace_minutes = 0
