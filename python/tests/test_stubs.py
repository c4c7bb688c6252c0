"""The type stubs (`nar/_nar.pyi`) name exactly what the extension module has: every function and class,
every public method and property of each class, and nothing else."""

import ast
import inspect

import nar
from conftest import ROOT

STUB = ROOT / "python" / "nar" / "_nar.pyi"


def stub_items():
    tree = ast.parse(STUB.read_text())
    functions, classes, typed_dicts = set(), {}, {"TypedDict"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") in typed_dicts for b in node.bases):
            # (A TypedDict, or one extending another, describes a dict the module returns; it is not an
            # object of the module.)
            typed_dicts.add(node.name)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    return functions, classes


def public(cls):
    """The class's public names (dunder methods the stub declares are checked above, where it has them)."""
    return {n for n in dir(cls) if not n.startswith("_")}


def test_the_stubs_name_what_the_module_has():
    functions, classes = stub_items()
    module = nar._nar
    for name in functions:
        assert callable(getattr(module, name, None)), f"the stub declares {name}(), the module has none"
    for name, members in classes.items():
        cls = getattr(module, name, None)
        assert inspect.isclass(cls), f"the stub declares class {name}, the module has none"
        for m in members:
            assert hasattr(cls, m), f"the stub declares {name}.{m}, the class has none"
        missing = public(cls) - members
        assert not missing, f"{name} has {sorted(missing)} that the stub does not declare"
    # And every public function and class of the module is in the stub.
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not (callable(obj) or inspect.isclass(obj)):
            continue
        assert name in functions or name in classes, f"the module's {name} is not in the stub"
