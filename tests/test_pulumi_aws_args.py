"""Every input of every resource in the dev and prod synth is a property pulumi_aws declares.

The mock runtime accepts any input; the real provider refuses an unknown property at preview and
warns about a deprecated one on every run. The rules come from pulumi_aws's own ``*Args`` input
classes (the version requirements.txt pins): each ``@pulumi.getter(name=...)`` is a property the
provider schema has, ``pulumi_aws._utilities.deprecated`` marks the deprecated ones, and the
getter's type hints name the nested ``*Args`` class of a block.
"""

from __future__ import annotations

import importlib
import keyword
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

import pulumi
import pytest

PULUMI_NAME = "_pulumi_name"  # set by pulumi.getter (pulumi/_types.py)
DEPRECATED = "_pulumi_deprecated_callable"  # set by pulumi_aws._utilities.deprecated


@cache
def args_class(token: str) -> type:
    """``aws:lambda/function:Function`` -> ``pulumi_aws.lambda_.FunctionArgs``."""
    if token == "pulumi:providers:aws":
        return importlib.import_module("pulumi_aws").ProviderArgs
    _, path, name = token.split(":")
    module = path.split("/")[0]
    module = f"{module}_" if keyword.iskeyword(module) else module
    return getattr(importlib.import_module(f"pulumi_aws.{module}"), f"{name}Args")


@cache
def properties(cls: type) -> dict[str, tuple[bool, tuple[type, ...]]]:
    """camelCase input name -> (deprecated, nested Args classes its type mentions)."""
    found = {}
    for attribute in vars(cls).values():
        if not isinstance(attribute, property) or not hasattr(attribute.fget, PULUMI_NAME):
            continue
        getter = attribute.fget
        hints = typing.get_type_hints(getter, globalns=vars(importlib.import_module(cls.__module__)))
        nested = tuple(sorted(set(_args_classes(hints.get("return"))), key=lambda c: c.__name__))
        found[getattr(getter, PULUMI_NAME)] = (hasattr(getter, DEPRECATED), nested)
    return found


def _args_classes(hint: Any) -> Iterator[type]:
    if isinstance(hint, type) and hint.__name__.endswith("Args") and hasattr(hint, "__init__"):
        yield hint
    for argument in typing.get_args(hint):
        yield from _args_classes(argument)


def problems_in(cls: type, inputs: dict[str, Any], where: str) -> Iterator[str]:
    known = properties(cls)
    for name, value in inputs.items():
        if name not in known:
            yield f"{where}.{name}: not an input of {cls.__name__}"
            continue
        deprecated, nested = known[name]
        if deprecated:
            yield f"{where}.{name}: deprecated in {cls.__name__}"
        if not nested:
            continue  # a scalar, a string map (tags, variables) or a JSON document
        blocks = value if isinstance(value, list) else [value]
        for index, block in enumerate(blocks):
            if isinstance(block, dict):
                label = f"{where}.{name}[{index}]" if isinstance(value, list) else f"{where}.{name}"
                yield from problems_in(nested[0], block, label)


def resources(template: Any) -> list[dict]:
    return [r for r in template.resources if r["type"].startswith(("aws:", "pulumi:providers:aws"))]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_input_is_a_current_pulumi_aws_property(synth_stack, stack: str) -> None:
    template = synth_stack(stack)
    checked = resources(template)
    assert len(checked) > 200
    problems = [p for r in checked for p in problems_in(args_class(r["type"]), r["inputs"], r["name"])]
    assert problems == []


def test_the_walk_finds_unknown_and_deprecated_properties_at_any_depth() -> None:
    table = args_class("aws:dynamodb/table:Table")
    inputs = {
        "billingMode": "PAY_PER_REQUEST",
        "billingmode": "PAY_PER_REQUEST",
        "globalSecondaryIndexes": [
            {"name": "ok", "projectionType": "ALL", "keySchemas": [{"attributeName": "a", "keyType": "HASH"}]},
            {"name": "old", "projectionType": "ALL", "hashKey": "a"},
            {"name": "typo", "projectionType": "ALL", "keySchemas": [{"attributeNmae": "a", "keyType": "HASH"}]},
        ],
        "tags": {"anything": "goes"},
    }
    assert sorted(problems_in(table, inputs, "t")) == [
        "t.billingmode: not an input of TableArgs",
        "t.globalSecondaryIndexes[1].hashKey: deprecated in TableGlobalSecondaryIndexArgs",
        "t.globalSecondaryIndexes[2].keySchemas[0].attributeNmae: not an input of TableGlobalSecondaryIndexKeySchemaArgs",
    ]
    function = args_class("aws:lambda/function:Function")
    assert list(problems_in(function, {"deadLetterConfig": {"targetArn": "x", "target": "y"}}, "f")) == [
        "f.deadLetterConfig.target: not an input of FunctionDeadLetterConfigArgs"]
    assert pulumi  # the SDK the getters come from is importable
