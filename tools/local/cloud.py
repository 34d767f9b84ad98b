"""One stack in the local cloud: synth -> emulator -> deploy -> IAM enforced -> runtime."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.local.deploy import Deployed, deploy
from tools.local.emulator import Emulator
from tools.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOG_DIR = ROOT / ".local-cloud" / "logs"


def synth_document(stack: str, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    from tools.synth import synth

    return synth(stack, overrides or {}).as_json()


class LocalCloud:
    """Use as a context manager; ``ready_seconds`` is the time from start to serving."""

    def __init__(self, stack: str, *, synth: dict[str, Any] | None = None,
                 progress: Callable[[str], None] = lambda line: None, echo: Callable[[str], None] | None = None,
                 log_dir: Path = DEFAULT_LOG_DIR, http: bool = True, retry_delay_seconds: int = 1,
                 edit_synth: Callable[[dict[str, Any]], None] | None = None, prewarm: bool = True,
                 pollers: bool = True) -> None:
        self._prewarm = prewarm
        self._pollers = pollers
        self.stack = stack
        self._synth = synth
        self._progress = progress
        self._echo = echo
        self._log_dir = log_dir
        self._http = http
        self._retry_delay = retry_delay_seconds
        self._edit = edit_synth
        self.emulator = Emulator()
        self.deployed: Deployed | None = None
        self.runtime: LocalRuntime | None = None
        self.ready_seconds = 0.0

    def start(self) -> LocalCloud:
        started = time.monotonic()
        if self._synth is None:
            self._progress(f"synthesizing {self.stack} (python -m tools.synth {self.stack})")
            self._synth = synth_document(self.stack)
        if self._edit:
            self._edit(self._synth)
        self._progress("starting moto server on 127.0.0.1")
        self.emulator.start()
        self._progress(f"moto server at {self.emulator.url}; deploying {len(self._synth['resources'])} synth entries")
        try:
            self.deployed = deploy(self._synth, self.emulator, progress=self._progress)
            self.emulator.enforce_iam()
            self._progress("IAM enforced: every call is checked against its caller's policies")
            self.runtime = LocalRuntime(self.deployed, self.emulator, self._log_dir, echo=self._echo,
                                        retry_delay_seconds=self._retry_delay)
            if self._prewarm:
                self._progress(f"starting {len(self.runtime.functions)} function sandboxes (each as its role)")
                self.runtime.prewarm()
            self.runtime.start(http=self._http, pollers=self._pollers)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        if self.runtime:
            self.runtime.stop()
        self.emulator.stop()

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A client with the local administrator's credentials (what a person at a console has)."""
        return self.emulator.client(service)

    def summary(self) -> list[str]:
        assert self.deployed is not None and self.runtime is not None
        lines = [f"{count:4} x {type_.split(':')[1]}" for type_, count in sorted(self.deployed.counts.items())]
        lines += [f"   (not created: {count} x {type_.split(':')[-1]}, the emulator lacks it)"
                  for type_, count in self.deployed.skipped.items()]
        lines.append(f"moto server:   {self.emulator.url}  (AWS_ENDPOINT_URL; credentials printed by --credentials)")
        if self.runtime.api_url:
            lines.append(f"HTTP API:      {self.runtime.api_url}")
            lines += [f"               {route.key:<40} -> {route.function.spec.logical}" for route in self.runtime.routes]
        lines += [f"mapping:       {p.mapping['inputs']['eventSourceArn'].split(':')[-1]:<40} -> {p.function.spec.logical}"
                  for p in self.runtime.pollers]
        lines += [f"schedule:      {s['inputs']['name']} ({s['inputs']['scheduleExpression']}), fired on demand"
                  for s in self.deployed.of_type("aws:scheduler/schedule:Schedule")]
        lines.append(f"function logs: {self._log_dir}")
        return lines
