"""The local cloud for the end-to-end tests: moto server on a free loopback port (its own process),
the dev stack deployed from its synth, stopped when the tests are done."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import cached_synth


def dev_synth() -> dict[str, Any]:
    return copy.deepcopy(cached_synth("dev").as_json())


def without_batching_windows(synth: dict[str, Any]) -> None:
    """The tests do not wait for batches to fill (up to 1 s per hop); make demo and the bench do."""
    for mapping in synth["resources"]:
        if mapping["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping":
            mapping["inputs"]["maximumBatchingWindowInSeconds"] = 0.0


def start_cloud(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None, prewarm: bool = False) -> Any:
    """Sandboxes start on first use unless ``prewarm`` (a broken wiring stops a flow early)."""
    from tools.local.cloud import LocalCloud

    def edits(synth: dict[str, Any]) -> None:
        without_batching_windows(synth)
        if edit:
            edit(synth)

    return LocalCloud("dev", synth=dev_synth(), log_dir=tmp_path / "logs", http=False, retry_delay_seconds=0,
                      edit_synth=edits, prewarm=prewarm).start()


def resource(synth: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in synth["resources"] if r["name"] == name)


def edit_policy(synth: dict[str, Any], name: str, change: Callable[[dict[str, Any]], None], key: str) -> None:
    inputs = resource(synth, name)["inputs"]
    document = json.loads(inputs[key])
    change(document)
    inputs[key] = json.dumps(document)
