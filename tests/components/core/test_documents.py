"""``json_document`` must be a drop-in for ``pulumi.Output.json_dumps``: same text, same secrecy,
same unknowns (the engine sees what it saw before the change)."""

from __future__ import annotations

import pulumi
import pytest

from components.core.documents import json_document
from tools.mocks import SECRET_PLACEHOLDER, UNKNOWN_PLACEHOLDER, run_mocked

DOCUMENT_TYPE = "test:index:Document"


def documents(preview: bool, secret: bool) -> dict[str, str]:
    """Both serialisations of one nested document, as the engine received them."""

    def program() -> None:
        # `pending` is not in the mock's answer: unknown in a preview, like any output not yet known.
        topic = pulumi.CustomResource("aws:sns/topic:Topic", "topic", {"name": "t", "pending": None})
        arn = pulumi.Output.secret("arn:aws:sqs:us-east-1:1:q") if secret else pulumi.Output.from_input("arn:q")
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ("sqs:SendMessage", "sqs:ReceiveMessage"),
                           "Resource": [arn, topic.name, topic.pending, "plain"], "Condition": {"Bool": {"n": 1.5, "t": True}}}],
            "Empty": [], "Nothing": None,
        }
        pulumi.CustomResource(DOCUMENT_TYPE, "ours", {"doc": json_document(document)})
        pulumi.CustomResource(DOCUMENT_TYPE, "sdk", {"doc": pulumi.Output.json_dumps(document)})

    run = run_mocked(program, "project", "dev", {}, preview=preview)
    return {r.name: r.inputs["doc"] for r in run.resources() if r.type == DOCUMENT_TYPE}


def test_same_text_as_output_json_dumps() -> None:
    written = documents(preview=False, secret=False)
    assert written["ours"] == written["sdk"]
    assert '"Action": ["sqs:SendMessage", "sqs:ReceiveMessage"]' in written["ours"]
    assert '"Resource": ["arn:q", "t", null, "plain"]' in written["ours"]


def test_a_secret_value_keeps_the_document_secret() -> None:
    assert documents(preview=False, secret=True) == {"ours": SECRET_PLACEHOLDER, "sdk": SECRET_PLACEHOLDER}


@pytest.mark.parametrize("secret", [False, True])
def test_an_unknown_value_in_preview_leaves_the_document_unknown(secret: bool) -> None:
    written = documents(preview=True, secret=secret)
    assert written["ours"] == written["sdk"]
    assert written["ours"] in (UNKNOWN_PLACEHOLDER, SECRET_PLACEHOLDER)


def test_a_document_without_outputs_is_its_json() -> None:
    def program() -> None:
        pulumi.CustomResource(DOCUMENT_TYPE, "plain", {"doc": json_document({"a": [1, "b", None]})})

    [record] = run_mocked(program, "project", "dev", {}).resources()
    assert record.inputs["doc"] == '{"a": [1, "b", null]}'
