"""Synth speed against two floors generated from the synth's own output, so they follow the program.

    python bench/synth_floor.py [--runs N] [--keep DIR]

- **raw**: a program that registers exactly the synth's resources (same types, names, parents,
  resource options and inputs, the inputs as the plain values the engine received) with
  ``pulumi.CustomResource`` / ``pulumi.ComponentResource``, importing only the ``pulumi_aws``
  sub-packages the program uses. What is left between it and the synth is the work the program
  adds: validation, building inputs from Outputs, packaging.
- **typed**: a minimal program that registers the same resources through the typed ``pulumi_aws``
  classes with trivial inputs (each required argument a placeholder, nothing else).

Both floors run under the same mock harness as ``tools.synth`` (``tools.mocks.run_mocked``) and
print their registrations as JSON the same way, so the only difference is the program.
Targets (issue 17): synth prod <= 2.0 x raw and <= 1.0 x typed (medians of interleaved runs).
Exit code 1 on a miss.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import keyword
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_VS_RAW = 2.0
TARGET_VS_TYPED = 1.0
STACK = "prod"
COMPONENT_PREFIX = "serverless:"
PROVIDER_TYPE = "pulumi:providers:aws"

# The runner both floors share: it loads the resource list, registers it with `register` (the
# floor's own code, below) under the synth's harness and prints the JSON as tools.synth does.
_RUNNER = '''
import importlib, json, sys
sys.path.insert(0, {root!r})
import pulumi
from tools.mocks import run_mocked

SPEC = json.load(open({spec!r}))
for module in SPEC["modules"]:
    importlib.import_module(module)

def program():
    made = {{}}
    for resource in SPEC["resources"]:
        opts = pulumi.ResourceOptions(
            parent=made.get(resource["parent"]),
            depends_on=[made[urn] for urn in resource["options"]["dependsOn"]],
            protect=resource["options"]["protect"],
            delete_before_replace=resource["options"]["deleteBeforeReplace"],
            ignore_changes=resource["options"]["ignoreChanges"] or None,
            retain_on_delete=resource["options"]["retainOnDelete"],
            providers=[made[SPEC["provider"]]] if resource["parent"] is None and resource["type"] != {provider_type!r} else None,
        )
        made[resource["urn"]] = register(resource, opts)

{register}

run = run_mocked(program, SPEC["project"], SPEC["stack"], {{}})
json.dump(run.as_json(), sys.stdout, indent=1, sort_keys=False)
sys.stdout.write("\\n")
'''

_RAW_REGISTER = '''
def engine_value(value):
    if isinstance(value, dict) and set(value) == {"archive"}:
        return pulumi.AssetArchive({name: pulumi.StringAsset("") for name in value["archive"]["files"]})
    return value

def register(resource, opts):
    if resource["type"] == "pulumi:providers:aws":
        return pulumi.ProviderResource("aws", resource["name"], resource["inputs"], opts)
    if resource["type"].startswith("serverless:"):
        return pulumi.ComponentResource(resource["type"], resource["name"], None, opts)
    inputs = {key: engine_value(value) for key, value in resource["inputs"].items()}
    return pulumi.CustomResource(resource["type"], resource["name"], inputs, opts)
'''

_TYPED_REGISTER = '''
CLASSES = {token: getattr(importlib.import_module(module), name) for token, (module, name) in SPEC["classes"].items()}

def register(resource, opts):
    if resource["type"].startswith("serverless:"):
        return pulumi.ComponentResource(resource["type"], resource["name"], None, opts)
    arguments = {argument: "x" for argument in SPEC["required"][resource["type"]]}
    return CLASSES[resource["type"]](resource["name"], opts=opts, **arguments)
'''


def python_class(token: str) -> tuple[str, str]:
    """``aws:lambda/function:Function`` -> (``pulumi_aws.lambda_``, ``Function``); the provider too."""
    if token == PROVIDER_TYPE:
        return "pulumi_aws", "Provider"
    _, module_path, name = token.split(":")
    module = module_path.split("/")[0]
    if keyword.iskeyword(module):
        module += "_"
    return f"pulumi_aws.{module}", name


def required_arguments(module: str, name: str) -> list[str]:
    """The keyword arguments the typed class refuses to go without (no default in its Args)."""
    args_class = getattr(importlib.import_module(module), f"{name}Args", None)
    if args_class is None:
        return []
    parameters = inspect.signature(args_class.__init__).parameters.values()
    return [p.name for p in parameters if p.name != "__self__" and p.default is inspect.Parameter.empty
            and p.kind is inspect.Parameter.KEYWORD_ONLY]


def in_registration_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents and explicit dependencies before the resources that name them."""
    by_urn = {resource["urn"]: resource for resource in resources}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(urn: str) -> None:
        if urn in placed or urn not in by_urn:
            return
        placed.add(urn)
        resource = by_urn[urn]
        for before in [resource["parent"], *resource["options"]["dependsOn"]]:
            if before:
                place(before)
        ordered.append(resource)

    provider = next(r["urn"] for r in resources if r["type"] == PROVIDER_TYPE)
    place(provider)
    for resource in resources:
        place(resource["urn"])
    return ordered


def floor_spec(synth_json: dict[str, Any]) -> dict[str, Any]:
    resources = in_registration_order(synth_json["resources"])
    tokens = sorted({r["type"] for r in resources if not r["type"].startswith(COMPONENT_PREFIX)})
    classes = {token: python_class(token) for token in tokens}
    return {
        "project": synth_json["project"],
        "stack": synth_json["stack"],
        "provider": next(r["urn"] for r in resources if r["type"] == PROVIDER_TYPE),
        "resources": resources,
        "modules": sorted({module for module, _ in classes.values()}),
        "classes": classes,
        "required": {token: required_arguments(*classes[token]) for token in tokens},
    }


def write_floors(directory: Path) -> dict[str, list[str]]:
    synth_output = subprocess.run([sys.executable, "-m", "tools.synth", STACK], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout
    spec_path = directory / "floor-spec.json"
    spec_path.write_text(json.dumps(floor_spec(json.loads(synth_output))))
    commands = {}
    for floor, register in (("raw", _RAW_REGISTER), ("typed", _TYPED_REGISTER)):
        program = directory / f"{floor}_floor.py"
        program.write_text(_RUNNER.format(root=str(ROOT), spec=str(spec_path), register=register,
                                          provider_type=PROVIDER_TYPE))
        commands[f"floor: {floor}"] = [sys.executable, str(program)]
    commands[f"synth {STACK}"] = [sys.executable, "-m", "tools.synth", STACK]
    return commands


def registered_count(command: list[str]) -> int:
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return len(json.loads(output)["resources"])


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the generated floor programs here and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        commands = write_floors(directory)
        counts = {name: registered_count(command) for name, command in commands.items()}  # also warms caches
        if len(set(counts.values())) != 1:
            print(f"the floors do not register what the synth does: {counts}")
            return 1
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    synth = medians[f"synth {STACK}"]
    print(f"{next(iter(counts.values()))} resources each; medians of {args.runs} interleaved runs")
    for name, value in medians.items():
        print(f"  {name:14s} {value * 1000:7.0f} ms")
    verdicts = []
    for floor, target in (("raw", TARGET_VS_RAW), ("typed", TARGET_VS_TYPED)):
        ratio = synth / medians[f"floor: {floor}"]
        verdicts.append(ratio <= target)
        print(f"synth {STACK} / {floor} floor = {ratio:.2f} (target <= {target:.2f}): "
              f"{'PASS' if ratio <= target else 'FAIL'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
