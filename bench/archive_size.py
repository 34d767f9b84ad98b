"""Zipped size of every function archive of the prod stack, as the program packages it (handler
folder, shared folders, library runtime modules). Target: <= 64 KiB each."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIMIT = 64 * 1024


def archive_sizes() -> dict[str, int]:
    """Function name -> deflated size of its archive, from the prod synth's own file lists."""
    from tools.synth import synth

    sizes = {}
    for function in synth("prod").as_json()["resources"]:
        if function["type"] != "aws:lambda/function:Function":
            continue
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in function["inputs"]["code"]["archive"]["files"]:
                source = ROOT / entry if entry.startswith("components/") else ROOT / "lambdas" / entry
                archive.write(source, entry)
        sizes[function["name"]] = len(buffer.getvalue())
    return dict(sorted(sizes.items()))


def main() -> int:
    sizes = archive_sizes()
    for name, size in sizes.items():
        print(f"{name:28s} {size / 1024:7.1f} KiB  {'ok' if size <= LIMIT else 'TOO BIG'}")
    worst = max(sizes.values())
    print(f"largest archive {worst / 1024:.1f} KiB (limit {LIMIT // 1024} KiB)")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
