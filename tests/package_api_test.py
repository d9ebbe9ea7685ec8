"""The package's shape: its wings import only the wings below them, the
root holds few loose modules, and every public name is declared in its
package face's `__all__` with a docstring a user can act on."""

import ast
import importlib
import inspect
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_perceiver"

# The wings, lowest first: a wing imports only from the wings of earlier
# levels (and the root helpers), never from its own level or above.
LEVELS = [
    {"layers"},
    {"adapters"},
    {"modalities"},
    {"preprocessing"},
    {"models"},
    {"datasets"},
    {"pretrained", "reports", "export"},
    {"training"},
    {"tuning", "distribution", "performance"},
    {"cli"},
]
LEVEL = {wing: level for level, wings in enumerate(LEVELS) for wing in wings}
ROOT_LEVEL = -1
MAX_ROOT_MODULES = 5

FACES = ["keras_perceiver"] + [
    f"keras_perceiver.{wing}" for wing in sorted(LEVEL) if wing != "cli"
]

pytestmark = pytest.mark.backend_independent


def wing_of(module):
    """The wing of a dotted module name, or "root" for the root helpers."""
    parts = module.split(".")
    if len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "root"


def imported_modules(path):
    """Every keras_perceiver module `path` imports, deferred imports too."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "keras_perceiver":
                yield from (f"keras_perceiver.{a.name}" for a in node.names)
            elif node.module.startswith("keras_perceiver."):
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names
                        if a.name.startswith("keras_perceiver."))


def level_of(wing):
    return ROOT_LEVEL if wing == "root" else LEVEL[wing]


def test_every_wing_has_a_level():
    wings = {path.name for path in PACKAGE.iterdir()
             if (path / "__init__.py").is_file()}
    assert wings == set(LEVEL)


def test_no_wing_imports_its_own_level_or_above():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue  # the package face imports every wing
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        wing = wing_of(module)
        for imported in imported_modules(path):
            target = wing_of(imported)
            if target != wing and level_of(target) >= level_of(wing):
                upward.append(f"{path.relative_to(PACKAGE)} -> {imported}")
    assert upward == []


def test_the_root_holds_at_most_five_loose_modules():
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_ROOT_MODULES, loose


@pytest.mark.parametrize("face", FACES)
def test_every_package_face_declares_its_public_names(face):
    module = importlib.import_module(face)
    assert module.__all__ == sorted(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def public_callables(face):
    module = importlib.import_module(face)
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) and issubclass(value, Exception):
            continue
        if inspect.isclass(value) or inspect.isfunction(value):
            yield name, value


def takes_arguments(value):
    parameters = inspect.signature(value).parameters
    return any(name not in ("self", "args", "kwargs") for name in parameters)


@pytest.mark.parametrize("face", FACES)
def test_every_public_name_has_args_and_an_example(face):
    incomplete = []
    for name, value in public_callables(face):
        doc = inspect.getdoc(value) or ""
        described = "Args:" in doc or "Attributes:" in doc
        if "Example:" not in doc or (takes_arguments(value) and not described):
            incomplete.append(name)
    assert incomplete == []
