"""Zero to JupyterHub, on paper: deploy/z2jh/ loads, and says what deploy/hub/ says (one thread
budget per CPU limit, guarantees under limits, one exchange, one course, one roster's uids), and
its image leaves the instructor's notebooks behind. No cluster runs here: this is what can be
checked without one."""

import pathlib
import re
import subprocess
import types

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from mtml_lib.course.hub import (
    FIRST_UID,
    THREAD_VARIABLES,
    memory_bytes,
    read_roster,
    read_settings,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
Z2JH = ROOT / "deploy" / "z2jh"


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))


def _profiles(values):
    """Each profile's CPU limit, memory guarantee and limit, and environment, as KubeSpawner
    applies them (the override over singleuser's settings)."""
    single = values["singleuser"]
    for profile in single["profileList"]:
        override = profile.get("kubespawner_override", {})
        yield (
            profile["display_name"],
            override.get("cpu_guarantee", single["cpu"]["guarantee"]),
            override.get("cpu_limit", single["cpu"]["limit"]),
            override.get("mem_guarantee", single["memory"]["guarantee"]),
            override.get("mem_limit", single["memory"]["limit"]),
            {**single["extraEnv"], **override.get("environment", {})},
        )


def test_every_profile_has_threads_for_its_cpus_and_guarantees_under_limits(values):
    profiles = list(_profiles(values))
    assert (
        len(profiles) >= 2
        and sum(bool(p.get("default")) for p in values["singleuser"]["profileList"]) == 1
    )
    for name, cpu_guarantee, cpu_limit, mem_guarantee, mem_limit, env in profiles:
        threads = {env[variable] for variable in THREAD_VARIABLES}
        assert threads == {str(max(1, int(cpu_limit)))}, (name, env)
        assert cpu_guarantee <= cpu_limit, name
        assert memory_bytes(mem_guarantee) <= memory_bytes(mem_limit), name


def test_the_cluster_and_the_server_share_the_exchange_the_course_and_the_clock(values):
    settings = read_settings(ROOT / "deploy" / "hub" / "class.toml")
    mounts = {
        m["name"]: m["mountPath"] for m in values["singleuser"]["storage"]["extraVolumeMounts"]
    }
    assert mounts["exchange"] == str(settings.exchange)
    assert values["singleuser"]["extraEnv"]["TZ"] == settings.timezone
    pod = PyFileConfigLoader("nbgrader_config.py", path=str(Z2JH)).load_config()
    assert pod.Exchange.root == str(settings.exchange)
    assert pod.Exchange.timezone == "UTC" and pod.Exchange.path_includes_course
    course = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "notebooks" / "homework"))
    assert (
        pod.CourseDirectory.course_id
        == settings.course
        == course.load_config().CourseDirectory.course_id
    )
    assert values["cull"]["enabled"] and values["cull"]["timeout"] == settings.idle_timeout


def test_the_hub_gives_each_roster_row_a_uid_and_an_edition(values):
    roster = ROOT / "deploy" / "hub" / "roster.csv"
    snippet = values["hub"]["extraConfig"]["10-mtml-uids"]
    assert "/srv/mtml/roster/roster.csv" in snippet
    config = Config()
    exec(
        compile(snippet.replace("/srv/mtml/roster/roster.csv", str(roster)), "extraConfig", "exec"),
        {"c": config},
    )
    members = read_roster(roster)
    spawners = [types.SimpleNamespace(user=types.SimpleNamespace(name=m.username)) for m in members]
    uids = [config.KubeSpawner.uid(s) for s in spawners]
    assert uids == list(range(FIRST_UID, FIRST_UID + len(members)))  # one each, in roster order
    editions = [config.KubeSpawner.environment["MTML_EDITION"](s) for s in spawners]
    assert editions == [m.edition for m in members]


def test_the_image_holds_the_student_workbooks_only():
    stages = re.split(r"^FROM ", (Z2JH / "Dockerfile").read_text(encoding="utf-8"), flags=re.M)[1:]
    final = stages[-1]
    assert "COPY notebooks" not in final and "--from=workbooks /srv/mtml/handouts" in final
    assert any("COPY notebooks" in stage and "build_workbook" in stage for stage in stages[:-1])
    assert "first-login.sh" in final and "nbgrader_config.py" in final
    assert subprocess.run(["sh", "-n", str(Z2JH / "first-login.sh")]).returncode == 0
