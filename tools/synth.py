"""Offline synth: run the program for a stack under Pulumi's mock runtime and print JSON.

    python -m tools.synth <stack>

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (a ``secure:`` value becomes a placeholder) and
prints ``{"project", "stack", "resources": [{"urn", "type", "name", "parent", "inputs", "options"}]}``
with inputs exactly as the engine receives them and ``options`` the resource options the engine
acts on (``protect``, ``deleteBeforeReplace``, ``ignoreChanges``, ``dependsOn``, ``retainOnDelete``).
Invalid settings: the error on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

from system.settings import load_schema, read_yaml
from tools.mocks import SECRET_PLACEHOLDER, MockRun, run_mocked

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_name(root: Path = PROJECT_ROOT) -> str:
    return load_schema(root / "Pulumi.yaml")[0]


def stack_config(stack: str, root: Path = PROJECT_ROOT) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the Pulumi runtime holds it (strings; objects as JSON) and its secret keys."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(known_stacks(root))}")
    document = read_stack_file(path)
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    project = project_name(root)
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = SECRET_PLACEHOLDER
            secret_keys.append(full_key)
        else:
            config[full_key] = _config_string(value)
    return config, secret_keys


def read_stack_file(path: Path) -> dict[str, Any]:
    """A stack file, or ValueError naming the file and line of a YAML mistake."""
    import yaml

    try:
        document = read_yaml(path) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}, line {mark.line + 1}" if mark is not None else path.name
        raise ValueError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ValueError(f"{path.name}: expected a mapping with a 'config' mapping")
    return document


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def config_overrides(pairs: list[str], root: Path = PROJECT_ROOT) -> dict[str, str]:
    """``KEY=VALUE`` pairs as full config keys; a key without a namespace is the project's."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"--config expects KEY=VALUE, got {pair!r}")
        overrides[key if ":" in key else f"{project_name(root)}:{key}"] = value
    return overrides


def known_stacks(root: Path = PROJECT_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def synth(stack: str, config_overrides: dict[str, str] | None = None, *, preview: bool = False,
          root: Path = PROJECT_ROOT, secret_overrides: dict[str, str] | None = None) -> MockRun:
    """Run ``__main__.py`` for ``stack`` under mocks; raises the program's own errors.
    ``secret_overrides`` are set as Pulumi secrets (as `pulumi config set --secret` would)."""
    config, secret_keys = stack_config(stack, root)
    config.update(config_overrides or {})
    config.update(secret_overrides or {})
    secret_keys = [*secret_keys, *(secret_overrides or {})]
    program_path = str(root / "__main__.py")
    previous_cwd = os.getcwd()
    os.chdir(root)  # as `pulumi up` runs the program
    try:
        return run_mocked(lambda: runpy.run_path(program_path, run_name="__main__"), project_name(root), stack,
                          config, preview=preview, secret_keys=secret_keys)
    finally:
        os.chdir(previous_cwd)


def stack_settings(stack: str, overrides: dict[str, str] | None = None, root: Path = PROJECT_ROOT) -> Any:
    """The stack's validated settings, as the program would load them (for the offline tools)."""
    from system.settings import load_settings

    config, secret_keys = stack_config(stack, root)
    return load_settings(stack, {**config, **(overrides or {})}, secret_keys=frozenset(secret_keys))


def offline_stack(stack: str) -> tuple[Any, Any]:
    """The stack's synth output (as a Template) and its settings, for the operator tools."""
    from tools.template import Template

    return Template(synth(stack).as_json()), stack_settings(stack)


def main(argv: list[str] | None = None) -> int:
    from system.settings import SettingsError

    parser = argparse.ArgumentParser(prog="python -m tools.synth", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name, e.g. dev or prod")
    parser.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE",
                        help="override a stack setting for this run, e.g. -c apiMemoryMb=1024 (repeatable)")
    parser.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE",
                        help="set a secret setting for this run, as `pulumi config set --secret` would (repeatable)")
    args = parser.parse_args(argv)
    try:
        run = synth(args.stack, config_overrides(args.config), secret_overrides=config_overrides(args.secret))
    except (SettingsError, FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    json.dump(run.as_json(), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


def run_as_command() -> None:
    """``main`` as a short-lived process: the ~1e5 objects the SDK allocates are all alive until the
    output is written, so the cyclic collector only burns time scanning them (and the heap once more
    at exit). Collect nothing during the run and leave without freeing it, once the output is flushed."""
    gc.freeze()  # everything imported so far: never scanned again
    gc.disable()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_as_command()
