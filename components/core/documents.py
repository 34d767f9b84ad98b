"""JSON documents (policies, redrive settings, dashboards) whose values may be Outputs."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

import pulumi

__all__ = ["json_document"]


class _Slot:
    """Where the n-th Output's value goes once every Output of the document is known."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def json_document(value: Any) -> pulumi.Output[str]:
    """``json.dumps(value)`` once every Output in it is known, as one ``Output.all``.

    Same text as ``pulumi.Output.json_dumps``, which lifts every nested dict, list and plain leaf
    into an Output of its own first: a policy document costs it dozens of Outputs and tasks, here
    one per Output the document holds. Secrets and unknowns propagate as with ``Output.all``."""
    outputs: list[pulumi.Output[Any]] = []

    def shape(node: Any) -> Any:
        if isinstance(node, pulumi.Output) or inspect.isawaitable(node):
            outputs.append(pulumi.Output.from_input(node))
            return _Slot(len(outputs) - 1)
        if isinstance(node, Mapping):
            return {key: shape(item) for key, item in node.items()}
        if isinstance(node, (list, tuple)):
            return [shape(item) for item in node]
        return node

    template = shape(value)

    def filled(node: Any, values: list[Any]) -> Any:
        if isinstance(node, _Slot):
            return values[node.index]
        if isinstance(node, dict):
            return {key: filled(item, values) for key, item in node.items()}
        if isinstance(node, list):
            return [filled(item, values) for item in node]
        return node

    return pulumi.Output.all(*outputs).apply(lambda values: json.dumps(filled(template, values)))
