"""Every IAM policy document the program builds passes parliament (unknown actions, actions that do
not fit their resources, malformed ARNs), except three findings that are parliament's, not ours."""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

# Trust policies have no Resource by design; component tests pin their principal and condition.
TRUST_POLICY_KEYS = ("assumeRolePolicy",)


def known_false_positive(resource_type: str, issue: str, detail: object) -> bool:
    if resource_type == "aws:kms/key:Key" and issue == "RESOURCE_STAR":
        return True  # in a key policy, "*" means this key
    if issue == "RESOURCE_MISMATCH" and all("/stream/" in d.get("required_format", "") for d in detail):  # type: ignore[union-attr]
        return True  # DynamoDB stream labels contain ':' and break parliament's ARN parsing
    return False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_policy_document_passes_parliament(synth_stack, stack) -> None:
    documents = []
    for resource in synth_stack(stack).resources:
        for key, value in resource["inputs"].items():
            if key in TRUST_POLICY_KEYS or not isinstance(value, str) or '"Statement"' not in value:
                continue
            documents.append((resource["type"], resource["name"], value))
    assert len(documents) > 30  # role, queue, topic and key policies
    problems = []
    for resource_type, name, document in documents:
        for finding in analyze_policy_string(document).findings:
            if not known_false_positive(resource_type, finding.issue, finding.detail):
                problems.append(f"{name}: {finding.issue} {json.dumps(finding.detail, default=str)[:200]}")
    assert problems == []


def test_parliament_catches_what_we_would_get_wrong() -> None:
    bad = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItemz"], "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"}]})
    assert [f.issue for f in analyze_policy_string(bad).findings] == ["UNKNOWN_ACTION"]
