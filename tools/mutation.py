"""Mutation testing of one module: ``python -m tools.mutation <path> [--tests T ...]``.

Runs mutmut (pinned in requirements-dev.txt) on ``<path>`` against the tests that cover it, within
mutmut's per-test timeouts, then prints the killed share. Handlers import their modules as Lambda
does (``payments_worker.payments``, with ``lambdas/`` on the path), so mutant names are taken
without the ``lambdas.`` prefix, as mutmut already does for ``src.``; the library's runtime code
keeps its package name (``components.runtime.webhook_receiver.signatures``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The tests that cover each module (what `make mutation MODULE=...` runs).
COVERING_TESTS = {
    "components/runtime/webhook_receiver/signatures.py": ["tests/lambdas/test_webhook_signatures.py",
                                                          "tests/lambdas/test_signature_messages.py",
                                                          "tests/reliability/test_webhook_hostile_input.py"],
    "lambdas/orders_api/handler.py": ["tests/lambdas/test_orders_api.py", "tests/lambdas/test_orders_ownership.py",
                                      "tests/lambdas/test_orders_api_contract.py",
                                      "tests/reliability/test_orders_hostile_input.py"],
    "lambdas/payments_worker/payments.py": ["tests/lambdas/test_payments_worker.py",
                                            "tests/lambdas/test_payments_ledger_effects.py",
                                            "tests/reliability/test_workers_under_faults.py"],
    "components/core/queue.py": ["tests/components/core/test_queue.py"],
    "components/core/function.py": ["tests/components/core/test_function.py"],
    "system/settings.py": ["tests/components/test_settings.py", "tests/components/test_defaults.py",
                           "tests/components/test_settings_messages.py"],
    "policy/rules.py": ["tests/policy/test_rules.py", "tests/policy/test_stack_findings.py",
                        "tests/policy/test_resource_messages.py"],
}


def patch_mutmut_module_names() -> None:
    from mutmut.utils import format_utils

    original = format_utils.get_mutant_name

    def without_lambdas(relative_source_path: Path, mutant_method_name: str) -> str:
        name = original(relative_source_path, mutant_method_name)
        return name.removeprefix("lambdas.")

    format_utils.get_mutant_name = without_lambdas
    import mutmut.__main__ as mutmut_main
    import mutmut.mutation.file_mutation as file_mutation

    mutmut_main.get_mutant_name = without_lambdas
    file_mutation.get_mutant_name = without_lambdas


def write_config(module: str, tests: list[str]) -> str:
    """mutmut reads [tool.mutmut] from pyproject.toml; the module and its tests go there for this
    run. Returns the file's text as it was, which main() puts back."""
    import re

    path = ROOT / "pyproject.toml"
    original = text = path.read_text()
    text = re.sub(r"^source_paths = .*$", f"source_paths = [{module!r}]".replace("'", '"'), text, flags=re.M)
    text = re.sub(r"^tests_dir = .*$", "tests_dir = [" + ", ".join(f'"{t}"' for t in tests) + "]", text, flags=re.M)
    path.write_text(text)
    return original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("module", help="a path such as components/runtime/webhook_receiver/signatures.py")
    parser.add_argument("--tests", nargs="*", help="the tests that cover it (default: the table in this file)")
    args = parser.parse_args(argv)
    tests = args.tests or COVERING_TESTS.get(args.module)
    if not tests or not (ROOT / args.module).is_file():
        print(f"no such module or no covering tests known for {args.module}; pass --tests", file=sys.stderr)
        return 2
    original = write_config(args.module, tests)
    try:
        subprocess.run(["rm", "-rf", str(ROOT / "mutants")], check=True)
        patch_mutmut_module_names()
        from mutmut.__main__ import cli

        cli(["run"], standalone_mode=False)
    finally:
        (ROOT / "pyproject.toml").write_text(original)
    return report(args.module)


def report(module: str) -> int:
    """Print the killed share and the survivors (exit code 0 from the tests means a mutant lived)."""
    import json

    meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text())
    outcomes = meta["exit_code_by_key"]
    survivors = sorted(key for key, code in outcomes.items() if code == 0)
    killed = sum(1 for code in outcomes.values() if code not in (0, None))
    print(f"\n{module}: {killed} of {len(outcomes)} mutants killed ({killed / len(outcomes):.0%}); "
          f"{len(survivors)} survived (`.venv/bin/mutmut show <name>` shows one):")
    for name in survivors:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
