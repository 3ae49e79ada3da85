"""Every docstring example in the library runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import mtml_lib

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(mtml_lib.__path__, "mtml_lib.")
    if not m.name.endswith("cli")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest failure(s) in {name}"


def test_import_needs_only_torch_numpy_matplotlib():
    import subprocess
    import sys

    # Compared with what torch, numpy and matplotlib load by themselves (torch imports tqdm, for
    # one).
    code = (
        "import sys, torch, numpy, matplotlib.pyplot; before = set(sys.modules); import mtml_lib, "
        "mtml_lib.tasks, mtml_lib.training, mtml_lib.models.conditioning, mtml_lib.viz.plots, "
        "mtml_lib.viz.widgets, mtml_lib.weighting, mtml_lib.data.synthetic, mtml_lib.data.digits; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; print(sorted(new & "
        "{'ipywidgets', 'sklearn', 'tqdm', 'nbgrader', 'IPython', 'jupyter_client'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
