"""The library's shape: small modules and functions, no import cycles, one name per public thing.

The limits are the design's: a module holds one concept (at most 350 lines), a function
reads on one screen (at most 80), and no module imports another that imports it back,
counting the imports hidden inside functions.
"""

import importlib
import pathlib
import pkgutil
import sys

import pytest

import mtml_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import layout  # noqa: E402 - tools/ is not a package

PACKAGE = ROOT / "mtml_lib"


def test_no_module_over_350_lines():
    sizes = layout.module_lines(PACKAGE)
    assert {name: n for name, n in sizes.items() if n > 350} == {}


def test_no_function_over_80_lines():
    assert [f for f in layout.functions(PACKAGE) if f.lines > 80] == []


def test_no_import_cycles():
    assert layout.import_cycles(PACKAGE) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from . import b\n", encoding="utf-8")
    (package / "b.py").write_text(
        "def f():\n    from .a import thing\n    return thing\n", encoding="utf-8"
    )
    (package / "c.py").write_text("from . import a\n", encoding="utf-8")
    assert layout.import_cycles(package) == [["pkg.a", "pkg.b"]]


def _module_names(package: pathlib.Path) -> dict[str, list[str]]:
    """Every module and subpackage below ``package``, by its last name (folders without an
    ``__init__.py``, such as data shipped inside the package, are not modules)."""
    names: dict[str, list[str]] = {}
    packages = [d for d in [package, *sorted(package.rglob("*"))] if (d / "__init__.py").exists()]
    for folder in packages:
        if any(not (up / "__init__.py").exists() for up in folder.parents if package in up.parents):
            continue  # below a folder that is not a package
        for module in sorted(folder.iterdir()):
            if (module.suffix == ".py" and module.name != "__init__.py") or module in packages:
                dotted = ".".join(module.relative_to(package.parent).with_suffix("").parts)
                names.setdefault(module.stem, []).append(dotted)
    return names


def test_no_two_modules_share_a_name():
    """A name says what a module holds: ``meta.py`` in four packages says nothing."""
    shared = {name: paths for name, paths in _module_names(PACKAGE).items() if len(paths) > 1}
    assert shared == {}


def test_the_name_check_sees_two_modules_of_one_name(tmp_path):
    package = tmp_path / "pkg"
    for sub in ("a", "b"):
        (package / sub).mkdir(parents=True)
        (package / sub / "__init__.py").write_text("", encoding="utf-8")
        (package / sub / "meta.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    assert _module_names(package)["meta"] == ["pkg.a.meta", "pkg.b.meta"]


def _public_functions():
    names: dict[str, list[str]] = {}
    modules = [m.name for m in pkgutil.walk_packages(mtml_lib.__path__, "mtml_lib.")]
    for name in ["mtml_lib", *modules]:
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", []):
            value = getattr(module, public)
            if callable(value) and getattr(value, "__module__", "").startswith("mtml_lib"):
                owner = f"{value.__module__}.{getattr(value, '__qualname__', public)}"
                names.setdefault(public, [])
                if owner not in names[public]:
                    names[public].append(owner)
    return names


def test_no_two_public_functions_share_a_name():
    shared = {name: owners for name, owners in _public_functions().items() if len(owners) > 1}
    assert shared == {}


@pytest.mark.parametrize(
    ("package", "registry", "factory"),
    [
        ("mtml_lib.models.conditioning", "CONDITIONING", "get_conditioning"),
        ("mtml_lib.models.blackbox", "BLACKBOX", "get_blackbox"),
        ("mtml_lib.weighting", "WEIGHTING", "get_weighting"),
    ],
)
def test_every_registry_follows_one_naming_rule(package, registry, factory):
    """The registry is its package's name in capitals, in the package's __init__; the factory is
    get_ + the package's name, re-exported at the top level."""
    module = importlib.import_module(package)
    last = package.rsplit(".", 1)[-1]
    assert (registry, factory) == (last.upper(), f"get_{last}")
    assert registry in module.__all__ and factory in module.__all__
    assert getattr(mtml_lib, factory) is getattr(module, factory)
    with pytest.raises(ValueError, match="Did you mean"):
        sizes = {"in_features": 1, "out_features": 1, "num_tasks": 2}
        getattr(module, factory)(next(iter(getattr(module, registry))) + "x", **sizes)


def test_the_top_level_exports_the_entry_points():
    for name in (
        "get_device",
        "seed_everything",
        "get_conditioning",
        "get_weighting",
        "get_blackbox",
        "fit",
        "meta_train",
        "meta_test",
        "evaluate_tasks",
    ):
        assert name in mtml_lib.__all__, name
