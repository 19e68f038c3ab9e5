"""The layers of bpcli, read from its modules' imports, so that the architecture cannot drift.

Top to bottom: cli > batch > present > grading > language > core > base. A module may import
its own layer and those below it, never one above. Every `import` counts, also one inside a
function or under `if TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "bpcli"

# Bottom to top; each layer is the modules and packages named, with their submodules.
LAYERS = (
    (
        "base",
        (
            "bpcli",
            "bpcli.cells",
            "bpcli.errors",
            "bpcli.limits",
            "bpcli.lazy",
            "bpcli.streams",
            "bpcli.values",
            "bpcli.version",
            "bpcli.texts",
        ),
    ),
    ("core", ("bpcli.core",)),
    ("language", ("bpcli.language",)),
    ("grading", ("bpcli.grading",)),
    ("present", ("bpcli.present",)),
    ("batch", ("bpcli.batch",)),
    ("cli", ("bpcli.cli", "bpcli.cli_options", "bpcli.__main__", "bpcli.api")),
)

# The one import that runs up, on purpose: the package's face loads the Python API (the top
# layer, beside the command line) when one of its names is first used (PEP 562).
FACE = {("bpcli", "bpcli.api")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The index in LAYERS of the layer a module is on (its longest matching name), or None."""
    matches = [
        (len(name), index)
        for index, (_, names) in enumerate(LAYERS)
        for name in names
        if module == name or (name != "bpcli" and module.startswith(name + "."))
    ]
    return max(matches)[1] if matches else None


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def bpcli_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for each bpcli module the file imports; `from bpcli.x import y` names
    bpcli.x.y when y is a module, else bpcli.x."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                name = f"{source}.{alias.name}"
                found.append((node.lineno, name if is_module(name) else source))
    return sorted({(line, name) for line, name in found if name == "bpcli" or name.startswith("bpcli.")})


def upward_imports() -> dict[tuple[str, str], list[str]]:
    """Each (importer, imported) pair that imports a higher layer, with where it does."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        low = layer(importer) or 0
        for line, imported in bpcli_imports(path):
            high = layer(imported) or 0
            if high > low and (importer, imported) not in FACE:
                where = f"{path.relative_to(ROOT)}:{line}: {importer} ({LAYERS[low][0]})"
                found.setdefault((importer, imported), []).append(
                    f"{where} imports {imported} ({LAYERS[high][0]})"
                )
    return found


def test_every_module_is_on_a_layer():
    modules = [module_name(path) for path in sorted(PACKAGE.rglob("*.py"))]
    assert [m for m in modules if layer(m) is None] == [], "add these modules to LAYERS"


def test_no_module_imports_a_higher_layer():
    found = [where for wheres in upward_imports().values() for where in wheres]
    assert not found, "imports of a higher layer:\n" + "\n".join(found)
