"""The library on its own: ``pip install .`` into a fresh venv, then every component and the example
program under ``examples/`` run under Pulumi mocks there, with no ``lambdas/``, ``system/`` or
repository root on the path. Fails when a component reaches for the application's code or files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "github-webhooks"

# Pulumi's mock runtime, written out so the venv needs nothing from this repository.
MOCKS = textwrap.dedent('''
    import asyncio, json
    import pulumi
    from pulumi.runtime.stack import run_pulumi_func

    RESOURCES = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            name = args.inputs.get("name") or args.name
            arn = f"arn:aws:mock:us-east-1:123456789012:{args.typ.split(':')[1]}/{name}"
            code = args.inputs.get("code")
            files = sorted(code.assets) if isinstance(code, pulumi.AssetArchive) else None
            RESOURCES.append({"type": args.typ, "name": args.name, "inputs": {**args.inputs, "code": files}})
            return f"{args.name}-id", {**args.inputs, "arn": arn, "name": name, "url": f"https://{name}",
                                       "apiEndpoint": f"https://{name}.example", "executionArn": arn,
                                       "invokeArn": arn, "streamArn": arn + "/stream/1", "version": "1"}

        def call(self, args):
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": "123456789012", "arn": "arn:aws:iam::123456789012:root", "userId": "x"}
            if args.token == "aws:ssm/getParameter:getParameter":
                return {"value": "arn:aws:lambda:us-east-1:017000801446:layer:powertools:1", "name": args.args["name"]}
            return {}

    def run(program):
        pulumi.runtime.set_mocks(Mocks(), project="installed", stack="dev", preview=False)
        asyncio.get_event_loop().run_until_complete(run_pulumi_func(program))
        print(json.dumps(RESOURCES, default=str))
''')


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the installed library; it sees this environment's dependencies through a
    .pth file (``--no-deps``), so the test stays fast and offline."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "outer-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Build from a copy of what the distribution holds, so the checkout gets no build/ or egg-info.
    source = venv.parent / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    shutil.copytree(ROOT / "components", source / "components", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation",
         "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True, text=True, cwd=venv.parent)
    assert build.returncode == 0, build.stderr[-3000:]
    return python


def run_in(python: Path, script: str, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_CONFIG")}
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_installed_package_is_the_library_alone(installed: Path, tmp_path: Path) -> None:
    found = run_in(installed, textwrap.dedent('''
        import importlib.util, json, components
        print(json.dumps({"components": components.__file__,
                          "others": [m for m in ("lambdas", "system", "tools", "policy", "shared")
                                     if importlib.util.find_spec(m) is not None]}))
    '''), tmp_path)
    assert "site-packages" in found["components"] and str(ROOT) not in found["components"]
    assert found["others"] == []


COMPONENTS_PROGRAM = MOCKS + textwrap.dedent('''
    import pathlib
    from components.api_service import ApiFunction, ApiService, ApiServiceArgs, Route
    from components.core.function import FunctionSpec
    from components.fan_out import FanOut, FanOutArgs, Subscriber, TopicFanOut, TopicFanOutArgs, TopicSubscriber
    from components.observability import ServiceHealth, ServiceHealthArgs
    from components.platform import Platform
    from components.scheduled_job import ScheduledJob, ScheduledJobArgs
    from components.stream_processor import KinesisSource, StreamProcessor, StreamProcessorArgs
    from components.webhook_ingestion import WebhookIngestion, WebhookIngestionArgs

    code = pathlib.Path("handlers")
    (code / "hello").mkdir(parents=True)
    (code / "hello" / "handler.py").write_text("def handler(event, context):\\n    return {}\\n")

    def fn():
        return FunctionSpec("hello", code_root=code)

    def program():
        # Each component with only its required arguments.
        platform = Platform("platform")
        api = ApiService("api", ApiServiceArgs(functions=(ApiFunction("hello", fn(), (Route("GET", "/hello", public=True),)),)))
        hook = WebhookIngestion("hook", WebhookIngestionArgs(source="github", scheme="github", worker=fn()))
        stream = StreamProcessor("clicks", StreamProcessorArgs(function=fn(), source=KinesisSource("clicks")))
        job = ScheduledJob("nightly", ScheduledJobArgs(job="nightly", function=fn(), expression="rate(1 day)"))
        events = FanOut("events", FanOutArgs(bus_name="default", subscribers=[Subscriber("audit", {"source": ["shop"]}, fn())]))
        topic = TopicFanOut("notices", TopicFanOutArgs(subscribers=[TopicSubscriber("all", 30)]))
        ServiceHealth("health", ServiceHealthArgs(covers=[platform, api, hook, stream, job, events, topic]))

    run(program)
''')


def by_type(resources: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for resource in resources:
        found.setdefault(resource["type"], []).append(resource)
    return found


def test_each_component_runs_from_the_installed_library_with_only_its_required_args(installed: Path,
                                                                                    tmp_path: Path) -> None:
    resources = by_type(run_in(installed, COMPONENTS_PROGRAM, tmp_path))
    components = {r["name"] for type_, rs in resources.items() if type_.startswith("serverless:") for r in rs}
    assert components == {"platform", "api", "hook", "clicks", "nightly", "events", "notices", "health"}
    functions = {f["name"]: f["inputs"] for f in resources["aws:lambda/function:Function"]}
    assert set(functions) == {"api-hello", "hook-receiver", "hook-worker", "clicks", "nightly", "audit-consumer"}
    # The library's own receiver ships from the installed package; the others are the test's folder.
    assert functions["hook-receiver"]["handler"] == "components.runtime.webhook_receiver.handler.handler"
    assert functions["api-hello"]["handler"] == "hello.handler.handler"
    assert {f["architectures"][0] for f in functions.values()} == {"arm64"}
    # Nothing from the orders system crept in: each archive is the test's folder and library runtime modules.
    files = {path for f in functions.values() for path in f["code"]}
    assert files - {"hello/handler.py"} and all(
        path == "hello/handler.py" or path.startswith("components/") for path in files)
    assert "components/runtime/stream_schema.py" not in functions["api-hello"]["code"]
    schedule = resources["aws:scheduler/schedule:Schedule"][0]["inputs"]
    assert schedule["groupName"] == "default" and schedule["scheduleExpressionTimezone"] == "UTC"


def test_the_example_program_synthesizes_from_the_installed_library(installed: Path, tmp_path: Path) -> None:
    program = MOCKS + textwrap.dedent(f'''
        import runpy
        run(lambda: runpy.run_path({str(EXAMPLE / "__main__.py")!r}, run_name="__main__"))
    ''')
    resources = by_type(run_in(installed, program, tmp_path))
    functions = {f["name"]: f["inputs"] for f in resources["aws:lambda/function:Function"]}
    assert set(functions) == {"github-receiver", "github-worker", "stale-branches"}
    assert functions["github-worker"]["name"] == "devtools-dev-github-worker"
    assert {r["inputs"]["routeKey"] for r in resources["aws:apigatewayv2/route:Route"]} == {"POST /webhooks/github"}
    worker_files = functions["github-worker"]["code"]
    assert {"components/runtime/webhook_schema.py", "components/runtime/observability.py",
            "github_events/handler.py"} <= set(worker_files)
    assert resources["aws:cloudwatch/compositeAlarm:CompositeAlarm"]
