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


CURRENT_MAJORS = {  # node24 releases; the node20 runtime left GitHub's runners on 2026-09-16
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    "aws-actions/configure-aws-credentials": "v6",
    "pulumi/actions": "v7",
}


def steps() -> list[tuple[str, dict]]:
    found = []
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            found += [(path.name, step) for step in job["steps"]]
    return found


def test_every_action_is_on_its_current_major() -> None:
    used = [(name, s["uses"]) for name, s in steps() if "uses" in s]
    assert len(used) >= 10
    for name, uses in used:
        action, _, version = uses.partition("@")
        assert CURRENT_MAJORS.get(action) == version, (name, uses)


def test_pulumi_steps_upsert_and_pass_the_stack_policy_config_after_installing_the_pack() -> None:
    pulumi_steps = 0
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            names = [s.get("run", "") for s in job["steps"]]
            for index, step in enumerate(job["steps"]):
                if not str(step.get("uses", "")).startswith("pulumi/actions"):
                    continue
                pulumi_steps += 1
                assert step["with"]["upsert"] is True
                assert step["with"]["policyPacks"] == "policy"
                config = step["with"]["policyPackConfigs"]
                stack = step["with"]["stack-name"]
                assert config == f"policy/{stack}-config.json"
                if "matrix" not in stack:
                    assert (ROOT / config).is_file()
                assert any("make policy-venv" in run for run in names[:index]), path.name
    assert pulumi_steps == 3


def test_previews_and_deploys_never_share_a_concurrency_group() -> None:
    preview = load(ROOT / ".github/workflows/preview.yml")["jobs"]["preview"]["concurrency"]
    deploys = [job["concurrency"] for job in load(ROOT / ".github/workflows/deploy.yml")["jobs"].values()]
    assert preview["group"].startswith("pulumi-preview-") and preview["cancel-in-progress"] is True
    assert [d["group"] for d in deploys] == ["pulumi-deploy-dev", "pulumi-deploy-prod"]
    assert all(d["cancel-in-progress"] is False for d in deploys)
