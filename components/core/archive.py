"""Function code archives: one handler folder plus ``lambdas/shared``, nothing else.

Layout at the archive root: ``<folder>/...`` and ``shared/...``, so the handler string is
``<folder>.handler.handler`` and tests import handlers with ``lambdas/`` on ``sys.path``.
Powertools is not packaged: it comes from the AWS-managed layer.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pulumi

LAMBDAS_ROOT = Path(__file__).resolve().parents[2] / "lambdas"
SHARED_FOLDER = "shared"
_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", ".pytest_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


class FunctionCodeError(ValueError):
    """The code a function points at does not exist or is not laid out as expected."""


def handler_string(folder: str) -> str:
    return f"{folder}.handler.handler"


def archive_files(folder: str, lambdas_root: Path = LAMBDAS_ROOT) -> dict[str, Path]:
    """Archive path -> file on disk for ``folder`` and the shared runtime helpers, sorted."""
    source = lambdas_root / folder
    if not (source / "handler.py").is_file():
        raise FunctionCodeError(
            f"function code folder '{source}' has no handler.py; expected handler '{handler_string(folder)}'"
        )
    if folder == SHARED_FOLDER:
        raise FunctionCodeError(f"'{SHARED_FOLDER}' holds runtime helpers, not a function")
    files: dict[str, Path] = {}
    for top in (folder, SHARED_FOLDER):
        base = lambdas_root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(lambdas_root)
            if path.is_dir() or _excluded(relative):
                continue
            files[relative.as_posix()] = path
    return files


def _excluded(relative: Path) -> bool:
    parts = relative.parts
    return (
        any(part in _EXCLUDED_DIRS for part in parts)
        or relative.name.startswith("test_")
        or relative.suffix in _EXCLUDED_SUFFIXES
    )


def function_archive(folder: str, lambdas_root: Path = LAMBDAS_ROOT) -> pulumi.AssetArchive:
    files = archive_files(folder, lambdas_root)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in files.items()})


def zip_bytes(folder: str, lambdas_root: Path = LAMBDAS_ROOT) -> bytes:
    """The archive as Pulumi would upload it, deflated; for size checks and benchmarks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in archive_files(folder, lambdas_root).items():
            archive.write(path, name)
    return buffer.getvalue()
