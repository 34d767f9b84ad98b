"""Function code archives: one handler folder, the shared folders its spec names, and the library
runtime modules the connected component ships; nothing else.

Layout at the archive root: ``<folder>/...`` and each shared folder (``shared/...``) beside it, so
the handler string is ``<folder>.handler.handler``; library runtime modules keep their package path
(``components/runtime/...``), so handlers import them as ``components.runtime.<module>`` both in
Lambda and in tests. Powertools is not packaged: it comes from the AWS-managed layer.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pulumi

from components.core.errors import ComponentConfigError

__all__ = ["RUNTIME_PACKAGE_ROOT", "FunctionCodeError", "archive_files", "function_archive", "handler_string", "zip_bytes"]

# The directory holding the ``components`` package: library-owned handlers live under it.
RUNTIME_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_RUNTIME = ("components/__init__.py", "components/runtime/__init__.py")
_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", ".pytest_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


class FunctionCodeError(ComponentConfigError):
    """The code a function points at does not exist or is not laid out as expected."""


def handler_string(folder: str) -> str:
    return f"{folder.replace('/', '.')}.handler.handler"


def archive_files(folder: str, code_root: Path, shared: Sequence[str] = (),
                  runtime_modules: Sequence[str] = ()) -> dict[str, Path]:
    """Archive path -> file on disk: ``folder`` under ``code_root``, each ``shared`` folder under
    it, and each named module of ``components.runtime``; sorted."""
    code_root = Path(code_root)
    source = code_root / folder
    if not (source / "handler.py").is_file():
        raise FunctionCodeError(
            f"function code folder '{source}' has no handler.py; expected handler '{handler_string(folder)}'"
        )
    if folder in shared:
        raise FunctionCodeError(f"'{folder}' is a shared folder (runtime helpers), not a function")
    files: dict[str, Path] = {}
    for top in (folder, *shared):
        base = code_root / top
        if not base.is_dir():
            raise FunctionCodeError(f"shared folder '{base}' does not exist")
        _add_tree(files, base, code_root)
    if runtime_modules or folder.startswith("components/"):
        for relative in _RUNTIME:
            files[relative] = RUNTIME_PACKAGE_ROOT / relative
        for module in runtime_modules:
            path = RUNTIME_PACKAGE_ROOT / "components" / "runtime" / f"{module}.py"
            if not path.is_file():
                raise FunctionCodeError(f"the library has no runtime module '{module}'")
            files[f"components/runtime/{module}.py"] = path
    return dict(sorted(files.items()))


def _add_tree(files: dict[str, Path], base: Path, code_root: Path) -> None:
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(code_root)
        if path.is_dir() or _excluded(relative):
            continue
        files[relative.as_posix()] = path


def _excluded(relative: Path) -> bool:
    parts = relative.parts
    return (
        any(part in _EXCLUDED_DIRS for part in parts)
        or relative.name.startswith("test_")
        or relative.suffix in _EXCLUDED_SUFFIXES
    )


def function_archive(folder: str, code_root: Path, shared: Sequence[str] = (),
                     runtime_modules: Sequence[str] = ()) -> pulumi.AssetArchive:
    files = archive_files(folder, code_root, shared, runtime_modules)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in files.items()})


def zip_bytes(folder: str, code_root: Path, shared: Sequence[str] = (), runtime_modules: Sequence[str] = ()) -> bytes:
    """The archive as Pulumi would upload it, deflated; for size checks and benchmarks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in archive_files(folder, code_root, shared, runtime_modules).items():
            archive.write(path, name)
    return buffer.getvalue()
