"""Imports go one way (README "Architecture"): read from the source's syntax trees, so an import
inside a function counts too.

- dealflow reads the cache and never imports a provider package;
- the sync engine and the rest of integrations reach providers only through the registry;
- a provider imports no other provider;
- portfolio imports neither integrations nor dealflow.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS_DIR = ROOT / "integrations" / "providers"
PROVIDER_PACKAGES = sorted(
    f"integrations.providers.{path.name}" for path in PROVIDERS_DIR.iterdir() if (path / "__init__.py").exists()
)


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, `from a import b` also as a.b."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(*folders: str, exclude: tuple[str, ...] = ()) -> list[Path]:
    paths = [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]
    return [path for path in paths if not any(part in exclude for part in path.relative_to(ROOT).parts)]


def violations(paths: list[Path], forbidden: list[str], root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)} imports {name}"
        for path in paths
        for name in sorted(imported_modules(path, root))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    ]


def test_there_is_a_provider_package_to_guard():
    assert "integrations.providers.pipedrive" in PROVIDER_PACKAGES


def test_dealflow_imports_no_provider_package():
    assert violations(sources("dealflow"), PROVIDER_PACKAGES) == []


def test_the_sync_engine_and_the_rest_of_integrations_import_no_provider_package():
    """Only the providers themselves and the Pipedrive-only tooling (its commands and benchmark,
    which exist to drive Pipedrive and its sandbox) name a provider; everything else asks the registry."""
    tooling = {"management", "providers", "benchmark.py"}
    paths = sources("integrations", exclude=("migrations",))
    engine = [path for path in paths if not tooling & set(path.relative_to(ROOT / "integrations").parts)]
    assert any(path.parts[-2:] == ("sync", "runner.py") for path in engine)
    assert violations(engine, PROVIDER_PACKAGES) == []


@pytest.mark.parametrize("package", PROVIDER_PACKAGES)
def test_a_provider_imports_no_other_provider(package):
    others = [other for other in PROVIDER_PACKAGES if other != package]
    assert violations(sources(package.replace(".", "/")), others) == []


def test_portfolio_imports_neither_other_app():
    assert violations(sources("portfolio", exclude=("migrations",)), ["integrations", "dealflow"]) == []


def test_the_check_sees_relative_and_nested_imports(tmp_path):
    """The rules above can fail: a relative import inside a function is found."""
    package = tmp_path / "integrations" / "sync"
    package.mkdir(parents=True)
    module = package / "bad.py"
    module.write_text("def later():\n    from ..providers.pipedrive import client\n")
    assert violations([module], PROVIDER_PACKAGES, root=tmp_path) == [
        "integrations/sync/bad.py imports integrations.providers.pipedrive",
        "integrations/sync/bad.py imports integrations.providers.pipedrive.client",
    ]
