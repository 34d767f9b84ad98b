"""Run the policy rules over a stack's offline synth output.

    python -m tools.policy <stack>

Prints each finding (rule id, resource, what is wrong, the fix); exits 1 on any mandatory
(error) finding, 2 on invalid settings. The same rules run in the CrossGuard pack (policy/).
"""

from __future__ import annotations

import argparse
import sys

from policy.rules import ERROR, Finding, evaluate


def findings_for(stack: str) -> list[Finding]:
    from tools.synth import stack_settings, synth

    production = stack_settings(stack).production
    return evaluate(synth(stack).as_json()["resources"], production=production)


def main(argv: list[str] | None = None) -> int:
    from components.settings import SettingsError

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
