"""Zipped size of every function archive (handler folder + lambdas/shared). Target: <= 64 KiB each."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.core.archive import LAMBDAS_ROOT, SHARED_FOLDER, zip_bytes

LIMIT = 64 * 1024


def function_folders() -> list[str]:
    return sorted(p.parent.name for p in LAMBDAS_ROOT.glob("*/handler.py") if p.parent.name != SHARED_FOLDER)


def main() -> int:
    worst = 0
    for folder in function_folders():
        size = len(zip_bytes(folder))
        worst = max(worst, size)
        print(f"{folder:28s} {size / 1024:7.1f} KiB  {'ok' if size <= LIMIT else 'TOO BIG'}")
    print(f"largest archive {worst / 1024:.1f} KiB (limit {LIMIT // 1024} KiB)")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
