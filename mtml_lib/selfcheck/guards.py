"""What a self-check guards against besides wrong numbers: the library's own implementation
handed in as the solution, and arguments changed in place.

``library_answer(student, answers)`` is a context manager around the check's calls of the
student's code. Before they run it looks at what the code refers to (its globals, closures and
defaults, a class's methods and bases, recursively through the student's own helpers): a
reference to one of ``answers`` is a wrong answer. While they run, each answer function is
replaced, where the library's modules hold it, by a stand-in that is a wrong answer when the
student's code calls it (``mtml_lib.weighting.dwa.dwa_weights(...)`` through a module) and the
original when the library calls it. A class answer is caught when the student's object is one or
holds one as a submodule (:func:`reject_library_modules`).

``unchanged(**arguments)`` keeps a copy of the arguments a check hands over and
:func:`Unchanged.verify` names the first one the student's code changed in place.

Example:
    >>> from mtml_lib.pareto import pareto_optimal
    >>> def mine(losses):
    ...     return pareto_optimal(losses)
    >>> with library_answer(mine, {"mtml_lib.pareto.pareto_optimal": pareto_optimal}):
    ...     pass  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mtml_lib.selfcheck.guards.LibraryAnswer: your code uses the library's own ...
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import pathlib
import sys
import sysconfig
import types
from collections.abc import Iterator, Mapping, Sequence

import torch

from ..i18n import translate as _

__all__ = [
    "LibraryAnswer",
    "call_leaving_inputs",
    "library_answer",
    "reject_library_modules",
    "unchanged",
]

_LIBRARY = pathlib.Path(__file__).resolve().parents[1]


class LibraryAnswer(AssertionError):
    """The student's code uses the library's implementation of the exercise."""

    def __init__(self, name: str):
        super().__init__(
            _(
                "your code uses the library's own `{name}`, the very thing this exercise asks you "
                "to write: write it yourself, with torch operations."
            ).format(name=name)
        )


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _referenced(obj: object) -> Iterator[object]:
    """The objects ``obj``'s own code refers to by name (one level)."""
    if isinstance(obj, functools.partial):
        yield obj.func
        yield from obj.args
        yield from obj.keywords.values()
        return
    if isinstance(obj, (staticmethod, classmethod)):
        yield obj.__func__
        return
    if isinstance(obj, property):
        yield from (f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        return
    if inspect.isclass(obj):
        yield from obj.__bases__
        yield from vars(obj).values()
        return
    function = getattr(obj, "__func__", obj)  # a bound method's function
    code = getattr(function, "__code__", None)
    if code is None:
        return
    scope = getattr(function, "__globals__", {})
    for inner in _code_objects(code):
        yield from (scope[name] for name in inner.co_names if name in scope)
    for cell in function.__closure__ or ():
        with contextlib.suppress(ValueError):  # an empty cell
            yield cell.cell_contents
    yield from function.__defaults__ or ()
    yield from (function.__kwdefaults__ or {}).values()


_INSTALLED = tuple(
    pathlib.Path(p).resolve()
    for p in {_LIBRARY, *(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib"))}
)


def _installed(obj: object) -> bool:
    """Whether ``obj`` is a module, or code from a file of the library, the standard library or an
    installed package: code that is not the student's, which the search does not enter."""
    if isinstance(obj, types.ModuleType):
        return True
    function = getattr(obj, "__func__", obj)
    if hasattr(function, "__code__"):
        where = function.__code__.co_filename
    elif inspect.isclass(obj):
        own = [getattr(f, "__func__", f) for f in vars(obj).values()]
        files = [f.__code__.co_filename for f in own if hasattr(f, "__code__")]
        if files:  # where its methods were written: a notebook cell, a string or a file
            return _on_disk(files[0])
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        if module is None or getattr(module, obj.__name__, None) is not obj:
            return False  # defined in a notebook cell or a string
        where = getattr(module, "__file__", None)
        if where is None:
            return True  # a built-in type
    else:
        return False
    return _on_disk(where)


def _on_disk(where: str) -> bool:
    try:
        path = pathlib.Path(where).resolve()
    except (OSError, ValueError):
        return False
    return any(path.is_relative_to(root) for root in _INSTALLED)


def _find(student: object, answers: Mapping[str, object]) -> str | None:
    """The name of an answer ``student`` refers to, following the student's own code only."""
    wanted = {id(obj): name for name, obj in answers.items()}
    classes = [(name, obj) for name, obj in answers.items() if inspect.isclass(obj)]
    seen: set[int] = set()
    todo = [student]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if id(obj) in wanted:
            return wanted[id(obj)]
        if inspect.isclass(obj):
            for name, answer in classes:
                if issubclass(obj, answer):
                    return name
        if not _installed(obj) and not isinstance(obj, torch.Tensor):
            todo.extend(_referenced(obj))
    return None


def _called_from_library() -> bool:
    frame = sys._getframe(2)  # the caller of the stand-in
    try:
        return pathlib.Path(frame.f_code.co_filename).resolve().is_relative_to(_LIBRARY)
    except (OSError, ValueError):
        return False


def _stand_in(name: str, original):
    @functools.wraps(original)
    def guarded(*args, **kwargs):
        if _called_from_library():
            return original(*args, **kwargs)
        raise LibraryAnswer(name)

    return guarded


@contextlib.contextmanager
def library_answer(student: object, answers: Mapping[str, object]) -> Iterator[None]:
    """Within this block, the student's code using one of ``answers`` is a wrong answer.

    ``answers`` maps each dotted name the hint shows to the library's function or class.
    """
    found = _find(student, answers)
    if found is not None:
        raise LibraryAnswer(found)
    functions = {
        name: obj for name, obj in answers.items() if callable(obj) and not inspect.isclass(obj)
    }
    replaced = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("mtml_lib") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            for name, original in functions.items():
                if value is original:
                    replaced.append((module, attribute, original))
                    setattr(module, attribute, _stand_in(name, original))
    try:
        yield
    finally:
        for module, attribute, original in replaced:
            setattr(module, attribute, original)


def reject_library_modules(module: torch.nn.Module, answers: Mapping[str, object]) -> None:
    """A wrong answer when ``module`` is, or holds, an instance of one of the answer classes."""
    for name, answer in answers.items():
        if inspect.isclass(answer) and any(isinstance(m, answer) for m in module.modules()):
            raise LibraryAnswer(name)


class Unchanged:
    """Copies of the arguments a check hands to the student's code, to compare afterwards."""

    def __init__(self, arguments: Mapping[str, object]):
        self.arguments = dict(arguments)
        self.copies = {name: _copy(value) for name, value in arguments.items()}

    def verify(self) -> None:
        for name, value in self.arguments.items():
            assert _same(value, self.copies[name]), _(
                "your code changed its argument `{name}` in place; leave the inputs as they are "
                "(work on a copy, e.g. `x = x.clone()`, or use out-of-place operations)."
            ).format(name=name)


def call_leaving_inputs(
    function, names: Sequence[str], *args, answers: Mapping[str, object] | None = None
):
    """``function(*args)``, then a wrong answer naming the first argument it changed in place
    (``names`` are the first arguments' names, as the exercise states them); with ``answers``, the
    call runs inside :func:`library_answer`."""
    given = Unchanged(dict(zip(names, args)))
    with library_answer(function, answers or {}):
        result = function(*args)
    given.verify()
    return result


def unchanged(**arguments: object) -> Unchanged:
    """Remember ``arguments`` as they are now; ``.verify()`` later names any changed in place."""
    return Unchanged(arguments)


def _copy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _same(value, copy) -> bool:
    if isinstance(value, torch.Tensor):
        return (
            isinstance(copy, torch.Tensor)
            and value.shape == copy.shape
            and torch.equal(value.detach(), copy)
        )
    if isinstance(value, (list, tuple)):
        return len(value) == len(copy) and all(_same(v, c) for v, c in zip(value, copy))
    if isinstance(value, dict):
        return value.keys() == copy.keys() and all(_same(value[k], copy[k]) for k in value)
    return value == copy
