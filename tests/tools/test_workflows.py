"""The GitHub workflows, validated offline against the GitHub workflow schema (vendored by check-jsonschema)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def schema() -> dict:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    return json.loads(vendored.read_text())


def load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_matches_the_github_schema(path: Path) -> None:
    jsonschema.validate(load(path), schema())


def test_the_three_workflows_exist() -> None:
    assert {p.stem for p in WORKFLOWS} == {"test", "preview", "deploy"}


def test_schema_rejects_a_broken_workflow() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"on": "push", "jobs": {"x": {"runs-on": "ubuntu-latest", "steps": "make test"}}}, schema())


def test_aws_access_is_oidc_only_and_stacks_do_not_overlap() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "aws-secret-access-key" not in text
    preview = load(ROOT / ".github/workflows/preview.yml")
    assert preview["permissions"]["id-token"] == "write"
    job = preview["jobs"]["preview"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == sorted(
        p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert "matrix.stack" in job["concurrency"]["group"]
    pulumi_step = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions"))
    assert pulumi_step["with"]["comment-on-pr"] is True and pulumi_step["with"]["policyPacks"] == "policy"
    deploy = load(ROOT / ".github/workflows/deploy.yml")
    assert deploy["jobs"]["prod"]["needs"] == "dev" and deploy["jobs"]["prod"]["environment"] == "production"
    assert deploy["on"]["push"]["branches"] == ["main"]
