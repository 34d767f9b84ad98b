"""Queries over synth output, in the manner of CDK's ``Template``: by type, partial input match."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Resource = Mapping[str, Any]


def matches(actual: Any, expected: Any) -> bool:
    """Partial match: dicts match on the expected keys only, lists element-wise, JSON strings parsed."""
    if isinstance(expected, Mapping):
        if isinstance(actual, str):
            try:
                actual = json.loads(actual)
            except ValueError:
                return False
        return isinstance(actual, Mapping) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            matches(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and float(actual) == float(expected)
    return actual == expected


class Template:
    """The resources of one synth, as printed by ``python -m tools.synth``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.project: str = document["project"]
        self.stack: str = document["stack"]
        self.resources: list[Resource] = list(document["resources"])
        self.by_urn = {r["urn"]: r for r in self.resources}

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r["type"] == type_]

    def find(self, type_: str, inputs: Mapping[str, Any] | None = None) -> list[Resource]:
        return [r for r in self.of_type(type_) if matches(r["inputs"], inputs or {})]

    def one(self, type_: str, inputs: Mapping[str, Any] | None = None) -> Resource:
        found = self.find(type_, inputs)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_} matching {inputs}, found {len(found)}")
        return found[0]

    def has(self, type_: str, inputs: Mapping[str, Any] | None = None) -> bool:
        return bool(self.find(type_, inputs))

    def count(self, type_: str) -> int:
        return len(self.of_type(type_))

    def children(self, parent_urn: str) -> list[Resource]:
        return [r for r in self.resources if r["parent"] == parent_urn]

    def descendants(self, ancestor_urn: str) -> Iterable[Resource]:
        for child in self.children(ancestor_urn):
            yield child
            yield from self.descendants(child["urn"])

    def named(self, name: str, type_: str | None = None) -> Resource:
        found = [r for r in self.resources if r["name"] == name and (type_ is None or r["type"] == type_)]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    @staticmethod
    def policy(resource: Resource, key: str = "policy") -> dict[str, Any]:
        """A JSON policy input parsed (IAM, queue, topic and key policies are JSON strings)."""
        return json.loads(resource["inputs"][key])


GRADUAL_DEPLOYMENT = "pulumi-python:dynamic/rollout:GradualDeployment"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"


def function_deployments(template: Template) -> dict[str, str]:
    """How each function's new code reaches traffic, by physical name: "AllAtOnce", or the CodeDeploy
    configuration of its alias and how many alarms roll it back."""
    groups = {g["inputs"].get("deploymentGroupName"): g["inputs"] for g in template.of_type(DEPLOYMENT_GROUP)}
    described = {}
    for deployment in template.of_type(GRADUAL_DEPLOYMENT):
        group = groups.get(deployment["inputs"].get("deployment_group")) or {}
        config = str(group.get("deploymentConfigName", "?")).removeprefix("CodeDeployDefault.Lambda")
        alarms = len((group.get("alarmConfiguration") or {}).get("alarms") or [])
        described[str(deployment["inputs"].get("function_name"))] = f"{config} on '{deployment['inputs'].get('alias')}'" \
                                                                    f", {alarms} rollback alarms"
    return {str(f["inputs"].get("name")): described.get(str(f["inputs"].get("name")), "AllAtOnce")
            for f in template.of_type("aws:lambda/function:Function")}
