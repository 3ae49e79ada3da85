"""The handout's second command: does everything the labs need work on this computer?

``mtml selftest`` (``make test`` in a handout) checks, in a few seconds to a minute:

* the environment: Python, torch at the pinned version, the device the notebooks will use;
* **every notebook's imports**: each ``import`` statement of the workbook's code cells, run here;
* **the data** every lab draws on: scikit-learn's digits (01-04), the task families (01-04),
  the recommender simulator (04), Glyphs (05, 06; rendered and cached on first use) and the
  sinusoid episodes (05, 06), each drawn once at a small size;
* **a notebook kernel**: JupyterLab's ``python3`` kernel starts, is this environment, and
  shows a progress bar without writing to stderr.

Each line says ``[ok]`` or ``[failed]`` with the reason; the command fails if any line does.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import os
import pathlib
import sys
from collections.abc import Callable

from ..i18n import translate as _

__all__ = ["notebook_imports", "selftest"]


def notebook_imports(path: pathlib.Path) -> list[str]:
    """The import statements of a notebook's code cells (magics and unparsable cells skipped)."""
    statements = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                statements.append(ast.unparse(node))
    return list(dict.fromkeys(statements))


def _environment() -> str:
    import torch

    from ..device import get_device

    wanted = next(
        (
            r.split("==")[1]
            for r in importlib.metadata.requires("mtml-workbook") or []
            if r.startswith("torch==")
        ),
        None,
    )
    have = torch.__version__.split("+")[0]
    if wanted and have != wanted:
        raise RuntimeError(
            _("torch {have} is installed; the workbook pins {wanted}").format(
                have=have, wanted=wanted
            )
        )
    return _("Python {python}, torch {torch}, device {device}").format(
        python=sys.version.split()[0], torch=torch.__version__, device=get_device()
    )


def _digits() -> str:
    from ..data.digits import load_digits_pool, multitask_classification

    pool = load_digits_pool()
    tasks = multitask_classification()
    x, _y = tasks[0].sample(8, generator=0)
    return _("digits: {images} training images, {tasks} tasks, x {shape}").format(
        images=len(pool.images), tasks=len(tasks), shape=tuple(x.shape)
    )


def _families() -> str:
    from ..data.sinusoids import related_sinusoids
    from ..data.synthetic import loss_scale_toy, mmoe_correlated

    count = len(related_sinusoids(4, relatedness=0.5)) + len(loss_scale_toy())
    count += len(mmoe_correlated(0.5))
    return _("task families: {count} tasks drawn").format(count=count)


def _recommender() -> str:
    import torch

    from ..data.recsys import RecommendationSimulator

    simulator = RecommendationSimulator(num_users=20, num_items=30)
    users, _items, _positions = simulator.log_impressions(4, torch.Generator().manual_seed(0))
    return _("recommender simulator: {count} impressions logged").format(count=len(users))


def _glyphs() -> str:
    from ..data.episodes import EpisodeSampler
    from ..data.glyphs import load_glyphs

    glyphs = load_glyphs()
    sampler = EpisodeSampler(glyphs, n_way=5, k_shot=1, n_query=1, batch_size=2, generator=0)
    episode = sampler.sample()
    return _("Glyphs: {classes} classes, an episode of {shape}").format(
        classes=glyphs.num_classes, shape=tuple(episode.support_x.shape)
    )


def _sinusoids() -> str:
    from ..data.sinusoids import sample_sinusoid_batch

    batch = sample_sinusoid_batch(4, 10, generator=0)
    return _("sinusoid tasks: a batch of {shape}").format(shape=tuple(batch["x"].shape))


def _kernel() -> str:
    """Start the ``python3`` kernel JupyterLab uses and ask it a few questions (over IPC
    sockets where there are any, so that the kernel has no unencrypted TCP port to warn about)."""
    import tempfile

    from jupyter_client.manager import KernelManager

    from .check import kernel_config

    with tempfile.TemporaryDirectory(prefix="mtml-kernel-") as scratch:
        manager = KernelManager(kernel_name="python3", config=kernel_config(scratch))
        manager.start_kernel()
        client = manager.client()
        client.start_channels()
        code = (
            "import sys, mtml_lib, ipywidgets\nfrom tqdm.auto import tqdm\n"
            "for _ in tqdm(range(3)): pass\nprint(sys.executable)"
        )
        printed, errors = [], []

        def collect(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                (printed if content["name"] == "stdout" else errors).append(content["text"])
            elif message["msg_type"] == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")

        try:
            client.wait_for_ready(timeout=120)
            client.execute_interactive(code, timeout=120, output_hook=collect)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    if errors:
        raise RuntimeError("".join(errors)[-500:])
    executable = "".join(printed).strip()
    if pathlib.Path(executable).resolve() != pathlib.Path(sys.executable).resolve():
        raise RuntimeError(
            _("the python3 kernel runs {executable}, not this environment's Python").format(
                executable=executable
            )
        )
    return _("a notebook kernel: starts in this environment, progress bars as widgets")


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("environment", _environment),
    ("digits", _digits),
    ("families", _families),
    ("recommender", _recommender),
    ("glyphs", _glyphs),
    ("sinusoids", _sinusoids),
    ("kernel", _kernel),
]


def _imports(notebook: pathlib.Path) -> str:
    statements = notebook_imports(notebook)
    namespace: dict = {}
    for statement in statements:
        exec(statement, namespace)  # noqa: S102 - the workbook's own import lines
    return _("{notebook}: {count} imports").format(notebook=notebook.name, count=len(statements))


def selftest(workbook: str | os.PathLike, *, out=print) -> bool:
    """Run every check for the notebooks under ``workbook``; print one line each; return
    whether all passed."""
    notebooks = sorted(pathlib.Path(workbook).rglob("*.ipynb"))
    notebooks = [n for n in notebooks if ".ipynb_checkpoints" not in n.parts]
    checks = CHECKS[:1] + [(n.name, lambda n=n: _imports(n)) for n in notebooks] + CHECKS[1:]
    if not notebooks:
        out(_("[failed] no notebooks under {folder}").format(folder=workbook))
        return False
    passed = True
    for name, check in checks:
        importlib.invalidate_caches()
        try:
            out(_("[ok] {title}").format(title=check()))
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the next
            out(
                _("[failed] {name}: {error}").format(
                    name=name, error=f"{type(error).__name__}: {error}"
                )
            )
            passed = False
    return passed
