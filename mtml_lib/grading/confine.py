"""The first code that runs inside the grading sandbox (see :mod:`mtml_lib.grading.sandbox`).

Run as a script (``python -I confine.py CONFIG MODULE ARGS...``), before anything untrusted
and without importing the workbook: it sets the resource limits, leaves root for an
unprivileged user of its own (so the process limit counts only this sandbox's processes), and
then runs ``MODULE`` as ``__main__``. Only the standard library is used here.
"""

import json
import os
import resource
import runpy
import sys


def main() -> None:
    config = json.loads(sys.argv[1])
    for name, value in config["limits"].items():
        # CPU: a soft limit under the hard one, so the process first gets SIGXCPU and the
        # grader can say which limit stopped it
        hard = value + 2 if name == "RLIMIT_CPU" else value
        resource.setrlimit(getattr(resource, name), (value, hard))
    if os.getuid() == 0:
        uid = config["uid"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0:  # pragma: no cover - setresuid raises instead
        raise SystemExit("the sandbox could not leave root")
    sys.argv = [config["module"], *sys.argv[2:]]
    runpy.run_module(config["module"], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
