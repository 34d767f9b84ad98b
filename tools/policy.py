"""Run the policy rules over a stack's offline synth output.

    python -m tools.policy <stack>

Prints each finding (rule id, resource, what is wrong, the fix); exits 1 on any mandatory
(error) finding, 2 on invalid settings. The same rules run in the CrossGuard pack (policy/), and
production-only rules are on exactly when the CLI would turn them on: by the stack's pack config
``policy/<stack>-config.json`` (the file the workflows pass with ``--policy-pack-config``), read
with the CLI's semantics (see ``policy.pack.load_pack_config``).
"""

from __future__ import annotations

import argparse
import sys

from policy.rules import ERROR, Finding, evaluate


def production_rules_for(stack: str) -> set[str]:
    from policy.pack import load_pack_config, production_rules_enabled, stack_pack_config

    path = stack_pack_config(stack)
    return production_rules_enabled(load_pack_config(path)) if path.is_file() else set()


def findings_for(stack: str) -> list[Finding]:
    from tools.synth import stack_settings, synth

    stack_settings(stack)  # invalid settings fail here, with their own message
    return evaluate(synth(stack).as_json()["resources"], production=production_rules_for(stack))


def main(argv: list[str] | None = None) -> int:
    from system.settings import SettingsError

    parser = argparse.ArgumentParser(prog="python -m tools.policy", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    args = parser.parse_args(argv)
    try:
        findings = findings_for(args.stack)
    except (SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    for finding in sorted(findings, key=lambda f: (f.severity != ERROR, f.rule, f.resource)):
        print(finding)
    errors = sum(1 for f in findings if f.severity == ERROR)
    print(f"{errors} mandatory, {len(findings) - errors} advisory finding(s) for stack '{args.stack}'")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
