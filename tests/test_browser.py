"""The student's view, end to end: JupyterLab in headless Chromium.

The server is started with the student handout's open command (``python3 workbook.py lab``,
127.0.0.1, a token, no browser of its own) in a copy of the handout unpacked and set up where
the repository is not (tests/testkit/handout.py), in both editions; the labs run at their small
settings (tests/testkit/small.py; nbval runs the full ones). Playwright
drives Debian's Chromium at ``/usr/bin/chromium`` (``MTML_CHROMIUM`` overrides; no browser is ever
downloaded). For every lab notebook the test runs all cells in the page and checks what a student
would see: no error output, no stderr text (progress bars must be widgets), every figure decoded,
and an explorer slider that, moved with the keyboard in the browser, makes the kernel redraw.
Screenshots land in ``artifacts/browser/`` (``MTML_ARTIFACTS`` overrides), printed at the end.

Without Chromium or Playwright the tests are skipped with the reason (``make test`` installs
Chromium with apt when it can)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest
from testkit.chromium import NOTEBOOK_READY, headless_chromium
from testkit.handout import Lab as HandoutLab
from testkit.small import inject

ROOT = pathlib.Path(__file__).resolve().parents[1]
LABS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = pathlib.Path(os.environ.get("MTML_ARTIFACTS", ROOT / "artifacts")) / "browser"
TOKEN = "mtml-browser-test"
RUN_TIMEOUT_S = 600  # per notebook, at the small settings (tests/testkit/small.py)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def start_lab(handout, tmp: pathlib.Path):
    """The handout's open command (``python3 workbook.py lab``) on a student's copy of the
    handout whose notebooks have their small settings injected (the full ones run under nbval:
    here what counts is what the page shows)."""
    mine = handout.copy(tmp / "student")
    for name in LABS:
        inject(mine.workbook / name)
    settings = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell stays in the page, so that every output can be inspected (JupyterLab otherwise
    # virtualises long notebooks and leaves off-screen cells out of the DOM).
    (settings / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}), encoding="utf-8"
    )
    config = tmp / "jupyter-config"
    config.mkdir()
    # window.jupyterapp, for running commands and reading the notebook model from the page.
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"LabApp": {"expose_app_in_browser": True}}), encoding="utf-8"
    )
    lab = HandoutLab(
        mine,
        tmp / "lab.log",
        token=TOKEN,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    lab.workbook = mine.workbook
    return lab


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def lab(browser, handouts, tmp_path_factory):
    server = start_lab(handouts["en"], tmp_path_factory.mktemp("lab"))
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield server
    server.close()


@pytest.fixture(scope="module", autouse=True)
def _report_screenshots(request):
    yield
    shots = sorted(ARTIFACTS.glob("*.png")) if ARTIFACTS.exists() else []
    if shots:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nbrowser screenshots ({len(shots)}): {ARTIFACTS}")


# --- what the page is asked -----------------------------------------------------------------

START = """(command) => {
  window.__mtmlRun = null;
  window.jupyterapp.commands.execute(command).then(
    (result) => { window.__mtmlRun = 'done'; },
    (error) => { window.__mtmlRun = 'failed: ' + error; });
}"""

FINISHED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return window.__mtmlRun !== null && panel.sessionContext.session.kernel.status === 'idle';
}"""

# The notebook's model: every output, whether or not it is on screen.
OUTPUTS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const report = {code: 0, executed: 0, errors: [], stderr: [], images: 0, widgets: 0};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    report.code += 1;
    if (cell.executionCount !== null && cell.executionCount !== undefined) report.executed += 1;
    for (const output of cell.outputs.toJSON()) {
      if (output.output_type === 'error') {
        report.errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
      }
      if (output.output_type === 'stream' && output.name === 'stderr') {
        const text = Array.isArray(output.text) ? output.text.join('') : output.text;
        report.stderr.push(`cell ${i}: ${text.slice(0, 300)}`);
      }
      const data = output.data || {};
      if (data['application/vnd.jupyter.widget-view+json']) report.widgets += 1;
      else if (data['image/png']) report.images += 1;
    }
  }
  return report;
}"""

# What is drawn in the page.
RENDERED = """() => {
  const node = window.jupyterapp.shell.currentWidget.node;
  const images = [...node.querySelectorAll('.jp-OutputArea-output img')];
  return {
    images: images.length,
    undecoded: images.filter((img) => !(img.complete && img.naturalWidth > 0)).length,
    progress: node.querySelectorAll('.jp-OutputArea-output .widget-hprogress').length,
    sliders: node.querySelectorAll('.jp-OutputArea-output .widget-slider .noUi-handle').length,
    // The narrowest visible slider track, in pixels: a squeezed slider cannot be moved.
    narrowest: Math.min(
      ...[...node.querySelectorAll('.jp-OutputArea-output .widget-slider .noUi-target')]
        .filter((track) => track.offsetParent !== null)
        .map((track) => track.getBoundingClientRect().width)),
  };
}"""

# Runs code in the notebook's own kernel and returns what it printed.
IN_KERNEL = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  let text = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') {
      text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
    }
  };
  await future.done;
  return text;
}"""

# The explorers a notebook displayed are the results of its cells, kept in IPython's Out.
EXPLORERS = """
import json as _json
from mtml_lib.viz.explorer import Explorer as _Explorer
print(_json.dumps({str(id(_e)): [_e.title, _e.draws,
                                   {_k: repr(round(_v, 6) if isinstance(_v, float) else _v)
                                                          for _k, _v in _e.params.items()}]
                  for _e in Out.values() if isinstance(_e, _Explorer) and _e.widget is not None}))
"""


def _explorers(page) -> dict:
    """Every live explorer in the kernel: id -> [title, draws, values of the last draw]."""
    text = page.evaluate(IN_KERNEL, EXPLORERS)
    assert not text.startswith("ERROR"), text
    return json.loads(text)


def _open(browser, lab: HandoutLab, path: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    messages = []
    page.on("pageerror", lambda error: messages.append(str(error)))
    # ?reset: a clean workspace, so that no earlier notebook is reopened beside this one.
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={TOKEN}")
    page.wait_for_function(NOTEBOOK_READY, timeout=120_000, polling=500)
    return page, messages


def _run(page, command: str, timeout_s: float):
    page.evaluate(START, command)
    page.wait_for_function(FINISHED, timeout=timeout_s * 1000, polling=1000)
    status = page.evaluate("() => window.__mtmlRun")
    assert status == "done", f"{command}: {status}"


def _stored_outputs(name: str) -> dict:
    """What the executed instructor notebook holds: the outputs the student's run must produce."""
    notebook = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    counts = {"images": 0, "progress": 0}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            plain = "".join(data.get("text/plain", ""))
            if "application/vnd.jupyter.widget-view+json" in data:
                counts["progress"] += "it/s" in plain or "s/it" in plain or "%|" in plain
            elif "image/png" in data:
                counts["images"] += 1
    return counts


@pytest.mark.parametrize("name", LABS)
def test_lab_notebook_runs_in_the_browser(browser, lab, name):
    page, page_errors = _open(browser, lab, name)
    try:
        started = time.monotonic()
        _run(page, "notebook:run-all-cells", RUN_TIMEOUT_S)
        seconds = time.monotonic() - started
        outputs = page.evaluate(OUTPUTS)
        assert outputs["executed"] == outputs["code"] > 0, (
            f"only {outputs['executed']} of {outputs['code']} code cells ran"
        )
        assert outputs["errors"] == [], (
            f"error outputs in the student's {name}: {outputs['errors']}"
        )
        assert outputs["stderr"] == [], (
            f"stderr text in the student's {name} (a progress bar or warning?): {outputs['stderr']}"
        )

        expected = _stored_outputs(name)
        page.wait_for_function(
            "(n) => window.jupyterapp.shell.currentWidget.node"
            ".querySelectorAll('.jp-OutputArea-output img').length >= n",
            arg=expected["images"],
            timeout=30_000,
        )
        rendered = page.evaluate(RENDERED)
        assert outputs["images"] >= expected["images"], (outputs, expected)
        assert rendered["undecoded"] == 0, (
            f"{rendered['undecoded']} figures did not render: {rendered}"
        )
        if expected["progress"]:
            assert rendered["progress"] >= 1, f"no progress bar widget rendered: {rendered}"
        assert rendered["sliders"] >= 1, f"no slider rendered: {rendered}"
        assert rendered["narrowest"] >= 100, (
            f"a slider is squeezed to {rendered['narrowest']:.0f} px: {rendered}"
        )

        # A real browser -> kernel round trip: move an explorer's slider with the keyboard.
        before = _explorers(page)
        assert before, "the notebook shows no explorer"
        redrawn = {title: draws for title, draws, _ in before.values() if draws != 1}
        assert not redrawn, (
            f"an explorer redrew before anything was moved (a value echoed by the page?): {redrawn}"
        )
        explorer = (
            page.locator(".jp-OutputArea-output .widget-vbox", has=page.locator(".widget-slider"))
            .filter(has_text="explorer")
            .last
        )
        handle = explorer.locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        handle.press("ArrowRight")
        deadline = time.monotonic() + 120
        while True:
            after = _explorers(page)
            # A redraw with new values (a value echoed back with float noise does not count).
            moved = [
                (before[key], now)
                for key, now in after.items()
                if key in before and now[1] > before[key][1] and now[2] != before[key][2]
            ]
            if moved or time.monotonic() > deadline:
                break
            page.wait_for_timeout(1000)
        assert moved, (
            f"moving the slider in the browser did not reach the kernel: {before} -> {after}"
        )
        assert moved and any(a[2] != b[2] for b, a in moved), (
            f"the kernel redrew without a new value: {moved}"
        )
        # The redrawn figure reaches the page.
        page.wait_for_timeout(1000)
        assert page.evaluate(RENDERED)["undecoded"] == 0
        explorer.screenshot(path=str(ARTIFACTS / f"{pathlib.Path(name).stem}-explorer.png"))
        page.screenshot(path=str(ARTIFACTS / f"{pathlib.Path(name).stem}.png"))
        assert page_errors == [], f"JavaScript errors in the page: {page_errors}"
        print(
            f"{name}: ran in {seconds:.0f} s in the browser; {outputs['images']} figures, "
            f"{rendered['progress']} progress bars; "
            f"slider moved {moved[0][0][2]} -> {moved[0][1][2]}"
        )
    finally:
        page.close()
        lab.delete_sessions()


@pytest.mark.parametrize("assignment", ["hw1_multitask", "hw2_blackbox"])
def test_homework_release_opens_and_its_first_cells_run(browser, lab, assignment):
    release = lab.workbook / "homework" / assignment
    (notebook,) = release.glob("*.ipynb")
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    grades = [cell["metadata"].get("nbgrader", {}) for cell in cells]
    first_test = next(
        i for i, g in enumerate(grades) if g.get("grade") and cells[i]["cell_type"] == "code"
    )
    assert any(g.get("solution") for g in grades[:first_test]), (
        "the release shows no answer cell before its first test"
    )
    page, page_errors = _open(browser, lab, f"homework/{assignment}/{notebook.name}")
    notebook_widget = "window.jupyterapp.shell.currentWidget.content"
    select_first_test = f"() => {{ {notebook_widget}.activeCellIndex = {first_test}; }}"
    try:
        # Everything above the first test cell: the set-up and the first (unanswered) answer cell.
        page.evaluate(select_first_test)
        _run(page, "notebook:run-all-above", 300)
        outputs = page.evaluate(OUTPUTS)
        ran = sum(1 for cell in cells[:first_test] if cell["cell_type"] == "code")
        assert outputs["executed"] == ran > 0, outputs
        assert outputs["errors"] == [] and outputs["stderr"] == [], outputs
        # The first visible test, run on the unanswered stub, tells the student so.
        page.evaluate(select_first_test)
        _run(page, "notebook:run-cell", 120)
        errors = page.evaluate(OUTPUTS)["errors"]
        assert len(errors) == 1 and "NotImplementedError" in errors[0], errors
        page.screenshot(path=str(ARTIFACTS / f"homework-{assignment}.png"))
        assert page_errors == [], f"JavaScript errors in the page: {page_errors}"
    finally:
        page.close()
        lab.delete_sessions()


# --- the Korean edition -----------------------------------------------------------------------

HANGUL_FONTS = """() => {
  const heading = window.jupyterapp.shell.currentWidget.node.querySelector('.jp-MarkdownOutput h1');
  return heading ? heading.textContent : null;
}"""


def _hangul_families() -> set[str]:
    """The font families this machine has that cover Korean (fontconfig's view)."""
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {name.strip() for line in listed.splitlines() for name in line.split(",")}


@pytest.fixture(scope="module")
def lab_ko(browser, handouts, tmp_path_factory):
    server = start_lab(handouts["ko"], tmp_path_factory.mktemp("lab-ko"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield server
    server.close()


def test_the_korean_edition_renders_hangul_and_runs(browser, lab_ko):
    """Notebook 01 of the Korean edition: its prose is drawn with a font that has Hangul (the
    fonts Chromium used for the title, asked through the DevTools protocol), and its cells run,
    the self-checks answering in Korean."""
    families = _hangul_families()
    assert families, "no font with Hangul on this machine (apt-get install fonts-noto-cjk)"
    page, page_errors = _open(browser, lab_ko, "01_tasks.ipynb")
    try:
        title = page.evaluate(HANGUL_FONTS)
        assert title and "태스크" in title, title
        devtools = page.context.new_cdp_session(page)
        devtools.send("DOM.enable")
        devtools.send("CSS.enable")
        root = devtools.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = devtools.send(
            "DOM.querySelector", {"nodeId": root, "selector": ".jp-MarkdownOutput h1"}
        )["nodeId"]
        used = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        hangul = [f for f in used if f["familyName"] in families and f["glyphCount"] > 0]
        assert hangul, f"the title's Hangul was drawn with {used}, none of them a Korean font"
        page.screenshot(path=str(ARTIFACTS / "ko-01_tasks.png"))

        _run(page, "notebook:run-all-cells", RUN_TIMEOUT_S)
        outputs = page.evaluate(OUTPUTS)
        assert outputs["executed"] == outputs["code"] > 0 and outputs["errors"] == [], outputs
        printed = page.evaluate(
            IN_KERNEL, "from mtml_lib.i18n import get_language\nprint(get_language())"
        )
        assert printed.strip() == "ko"
        text = page.locator(".jp-OutputArea-output").all_inner_texts()
        verdicts = [t for t in text if t.startswith("[")]
        assert any("[아직]" in t for t in verdicts) and not any("[not yet]" in t for t in verdicts)
        page.screenshot(path=str(ARTIFACTS / "ko-01_tasks-run.png"), full_page=False)
        assert page_errors == [], f"JavaScript errors in the page: {page_errors}"
        print(f"Korean edition: the title drawn with {[f['familyName'] for f in hangul]}")
    finally:
        page.close()
        lab_ko.delete_sessions()
