"""The Pulumi CLI's own checks of ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``, reproduced in Python.

The mock runtime accepts any config; the real CLI refuses a stack before the program runs. These
functions follow the CLI's Go code at pulumi/pulumi commit
1b5949891b3cefcb9974752b24a5ecef0acc86c8 (2026-08-21); ``project.json`` beside this file is
``sdk/go/common/workspace/project.json`` from that commit (last changed in 2807395 on 2026-07-24),
byte for byte. Each rule names the lines it comes from:

- ``sdk/go/common/workspace/project.go`` ``ValidateProject`` (l. 569-596): the project document must
  validate against ``project.json`` (JSON Schema draft 2020-12).
- ``project.go`` ``(*Project).Validate`` (l. 839-895): not both ``default`` and ``value`` (l. 845);
  an ``array`` declares ``items`` (l. 852-854); a ``default`` has the declared type (l. 858-862).
- ``pkg/workspace/config.go`` ``mergeConfig`` (l. 255-366): a project key the stack lacks gets its
  ``default`` merged in as a plaintext value (``createConfigValue``, l. 179-193, l. 333-342); a
  project key with neither a stack value nor a default is missing (l. 319-324, one error for all).
- ``config.go`` ``validateStackConfigValue`` (l. 119-156): a key declared ``secret: true`` must hold
  a secure value (l. 128-133), so a merged plaintext default fails it; then the value must have the
  declared type (l. 135-151) by ``project.go`` ``ValidateConfigValue`` (l. 771-832): strings;
  integers, also as whole floats or strings that parse as integers (l. 777-796); booleans, also as
  the strings "true"/"false" (l. 798-807); ``object`` a map (l. 809-813); arrays with every item of
  the ``items`` type (l. 815-829).
- ``sdk/go/common/resource/config/object.go`` ``MarshalString`` (l. 403-420): how a stack file's
  YAML value is held: scalars as text (numbers and booleans as their JSON text), ``{secure: ...}``
  as a secure string, maps and lists as JSON objects (secure if any element is).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("project.json")
SECRET_STAND_IN = "[decrypted]"


@dataclass(frozen=True)
class StackValue:
    """A config value as the CLI holds it: text, whether it is secure, whether it is an object."""

    text: str
    secure: bool = False
    object: bool = False


def stack_value(raw: Any) -> StackValue:
    """``object.MarshalString`` for a value read from a stack file."""
    if isinstance(raw, dict) and set(raw) == {"secure"} and isinstance(raw["secure"], str):
        return StackValue(SECRET_STAND_IN, secure=True)
    if isinstance(raw, (dict, list)):
        return StackValue(json.dumps(raw), secure=_has_secure(raw), object=True)
    if isinstance(raw, bool):
        return StackValue("true" if raw else "false")
    if isinstance(raw, float) and raw.is_integer():
        return StackValue(str(int(raw)))  # Go's encoding/json writes 5.0 as 5
    if isinstance(raw, (int, float)):
        return StackValue(json.dumps(raw))
    return StackValue("" if raw is None else str(raw))


def _has_secure(raw: Any) -> bool:
    if isinstance(raw, dict):
        return set(raw) == {"secure"} or any(_has_secure(v) for v in raw.values())
    if isinstance(raw, list):
        return any(_has_secure(v) for v in raw)
    return False


def default_value(raw: Any) -> StackValue:
    """``createConfigValue``: primitives become plaintext text, everything else a JSON object."""
    if isinstance(raw, bool):
        return StackValue("true" if raw else "false")
    if isinstance(raw, (str, int)):
        return StackValue(str(raw))
    return StackValue(json.dumps(raw), object=True)


def value_has_type(type_name: str, items: dict | None, value: Any) -> bool:
    """``ValidateConfigValue``."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return math.isfinite(value) and value == math.trunc(value)
        if isinstance(value, str):  # strconv.Atoi: optional sign, ASCII digits only
            return re.fullmatch(r"[+-]?[0-9]+", value) is not None
        return False
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(value_has_type(items.get("type", ""), items.get("items"), item) for item in value)


def full_type_name(type_name: str, items: dict | None) -> str:
    if items is not None:
        return f"array<{full_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


def project_problems(project: dict[str, Any]) -> list[str]:
    """``ValidateProject`` (the JSON schema) and ``Project.Validate``, every problem found."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = [f"project schema: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(project)]
    name = project.get("name", "")
    if not name:
        problems.append("project is missing a 'name' attribute")
    config = project.get("config")
    for key, declaration in (config if isinstance(config, dict) else {}).items():
        if not isinstance(declaration, dict):
            continue  # a bare value: the schema already judged it
        if "default" in declaration and "value" in declaration:
            problems.append(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        type_name = declaration.get("type")
        namespaced = ":" not in key or key.startswith(f"{name}:")
        if not namespaced:
            if type_name is not None or "default" in declaration or "value" not in declaration:
                problems.append(f"Configuration key '{key}' is not namespaced by the project: only a 'value' may be given")
            continue
        if type_name == "array" and declaration.get("items") is None:
            problems.append(f"The configuration key '{key}' declares an array but does not specify the "
                            "underlying type via the 'items' attribute")
        if type_name is not None and declaration.get("default") is not None:
            if not value_has_type(type_name, declaration.get("items"), declaration["default"]):
                problems.append(f"The default value specified for configuration key '{key}' is not of the expected "
                                f"type '{full_type_name(type_name, declaration.get('items'))}'")
    return problems


def stack_problems(project: dict[str, Any], stack: str, stack_document: dict[str, Any] | None) -> list[str]:
    """``mergeConfig`` with validation, as on ``pulumi preview/up/refresh/destroy``; every problem."""
    name = project["name"]
    merged: dict[str, StackValue] = {}
    for key, raw in ((stack_document or {}).get("config") or {}).items():
        merged[key if ":" in key else f"{name}:{key}"] = stack_value(raw)
    declarations = {k: v for k, v in (project.get("config") or {}).items() if isinstance(v, dict)}
    missing = []
    for key in sorted(declarations):
        declaration = declarations[key]
        full = key if ":" in key else f"{name}:{key}"
        if full in merged:
            continue
        source = declaration.get("default", declaration.get("value"))
        if source is None:
            if full.startswith(f"{name}:"):
                missing.append(key)
            continue
        merged[full] = default_value(source)  # plaintext, whatever the declaration says
    problems = []
    if missing:
        problems.append(f"Stack '{stack}' is missing configuration value(s) {', '.join(missing)}")
    for key in sorted(declarations):
        declaration = declarations[key]
        full = key if ":" in key else f"{name}:{key}"
        if declaration.get("type") is None or full not in merged:
            continue
        value = merged[full]
        if declaration.get("secret") and not value.secure:
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret")
            continue
        content: Any = json.loads(value.text) if value.object else value.text
        if value.secure and not value.object and declaration["type"] != "string":
            continue  # the decrypted text is not known offline
        if not value_has_type(declaration["type"], declaration.get("items"), content):
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be of type "
                            f"'{full_type_name(declaration['type'], declaration.get('items'))}'")
    return problems
