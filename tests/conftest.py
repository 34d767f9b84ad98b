"""Shared fixtures: the program or a builder under Pulumi's mock runtime, one fresh runtime per run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _share_one_botocore_loader() -> None:
    """moto gives every test a fresh boto3 session, and every session its own data loader, which
    parses the service models again (~25% of the suite). One loader for the whole run: its caches
    hold models and endpoint data, which never change within a run."""
    import botocore.loaders
    import botocore.session

    shared = botocore.loaders.create_loader()
    botocore.session.create_loader = lambda search_path_string=None: shared  # type: ignore[assignment]


_share_one_botocore_loader()
# Handlers import as they do in Lambda: `<folder>.handler` and `shared.*` at the top level.
sys.path.insert(0, str(ROOT / "lambdas"))

from components.core.context import StackContext  # noqa: E402
from components.platform import Platform, stack_provider  # noqa: E402
from system.settings import Settings, load_settings  # noqa: E402
from tools.mocks import MockRun, run_mocked  # noqa: E402
from tools.synth import project_name, stack_config, synth  # noqa: E402
from tools.template import Template  # noqa: E402

PROJECT = project_name()


def full_key(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def stack_raw_config(stack: str, overrides: dict[str, object] | None = None) -> dict[str, str]:
    config, _ = stack_config(stack)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(full_key(key), None)
        else:
            config[full_key(key)] = value if isinstance(value, str) else _json(value)
    return config


def _json(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def settings_for(stack: str, **overrides: object) -> Settings:
    return load_settings(stack, stack_raw_config(stack, overrides))


_SYNTH_CACHE: dict[tuple, MockRun] = {}


def cached_synth(stack: str, config_overrides: dict[str, str] | None = None, *, preview: bool = False,
                 secrets: dict[str, str] | None = None) -> MockRun:
    """``tools.synth.synth`` once per stack, overrides and mode in this process: the program is
    deterministic (a test pins that) and read-only to the tests, and a full synth takes ~1 s."""
    secret_overrides = {full_key(k): v for k, v in (secrets or {}).items()}
    key = (stack, tuple(sorted((config_overrides or {}).items())), preview, tuple(sorted(secret_overrides.items())))
    if key not in _SYNTH_CACHE:
        _SYNTH_CACHE[key] = synth(stack, config_overrides, preview=preview, secret_overrides=secret_overrides)
    return _SYNTH_CACHE[key]


@pytest.fixture
def synth_stack() -> Callable[..., Template]:
    """Run the whole program for a stack (``__main__.py``) and return its synth output."""

    def run(stack: str, overrides: dict[str, object] | None = None, *, preview: bool = False,
            secrets: dict[str, str] | None = None) -> Template:
        config_overrides = {full_key(k): (v if isinstance(v, str) else _json(v)) for k, v in (overrides or {}).items()}
        return Template(cached_synth(stack, config_overrides, preview=preview, secrets=secrets).as_json())

    return run


@pytest.fixture
def synth_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tools under test (redrive, replay, plan) get the cached synth."""
    import tools.synth

    monkeypatch.setattr(tools.synth, "synth", lambda stack, overrides=None, **kw: cached_synth(stack, overrides, **kw))


class BuilderRun:
    def __init__(self, run: MockRun, result: object) -> None:
        self.run = run
        self.result = result
        self.template = Template(run.as_json())


@pytest.fixture
def run_builder() -> Callable[..., BuilderRun]:
    """Run ``build(ctx, parent)`` inside a test component on a real platform context, under mocks;
    ``parent.settings`` holds the stack's settings. The harness has the stack's provider, so its
    children (and components built with ``opts=ResourceOptions(parent=parent)``) inherit it."""

    def run(build: Callable[[StackContext, pulumi.ComponentResource], object], stack: str = "dev",
            preview: bool = False, **overrides: object) -> BuilderRun:
        config = stack_raw_config(stack, overrides)
        holder: dict[str, object] = {}

        def program() -> None:
            settings = load_settings(stack, config)
            on_provider = pulumi.ResourceOptions(providers=[stack_provider(settings.defaults)])
            platform = Platform("platform", settings.platform, on_provider)
            parent = pulumi.ComponentResource("test:index:Harness", "harness", None, on_provider)
            parent.settings = settings  # type: ignore[attr-defined]  # what a test's builder wires from
            holder["result"] = build(platform.stack, parent)

        mock_run = run_mocked(program, PROJECT, stack, config, preview=preview)
        return BuilderRun(mock_run, holder.get("result"))

    return run


@pytest.fixture
def lambdas_root(tmp_path: Path) -> Path:
    """A lambdas/ tree with one handler folder (plus clutter the archive must leave out) and shared/."""
    root = tmp_path / "lambdas"
    (root / "sample").mkdir(parents=True)
    (root / "sample" / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (root / "sample" / "logic.py").write_text("X = 1\n")
    (root / "sample" / "__pycache__").mkdir()
    (root / "sample" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (root / "sample" / "tests").mkdir()
    (root / "sample" / "tests" / "test_logic.py").write_text("def test(): pass\n")
    (root / "other").mkdir()
    (root / "other" / "handler.py").write_text("def handler(event, context):\n    return None\n")
    (root / "shared").mkdir()
    (root / "shared" / "__init__.py").write_text("")
    (root / "shared" / "observability.py").write_text("LOGGER = None\n")
    return root



def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported and collected stays alive for the whole run: keep the cyclic collector
    from rescanning it (each in-process synth allocates ~1e5 objects; scans of the permanent heap
    were ~15% of the suite's time). Young garbage is still collected, less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
