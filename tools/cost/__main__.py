"""Monthly cost estimate of a stack (tuned and untuned baseline), from the offline synth.

    python -m tools.cost <stack> [--json]
    python -m tools.cost <stack> --power-tuning results.json [--strategy cost|speed|balanced]

`results.json`: {"<function logical name>": {"128": ms, "256": ms, ...}} from AWS Lambda Power Tuning
(average duration per memory size). Each recommendation comes with its monthly effect at the
stack's workload and the `pulumi config set` command that applies it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from system.settings import MEMORY_RANGE_MB
from tools.cost import prices as p
from tools.cost.model import _function_volume, estimate, free_tier_credit, pick_memory, workload_problems
from tools.jsonfile import load_json
from tools.template import Template


class UsageError(ValueError):
    """A user's mistake: printed as one clear message, exit code 2."""


def report(stack: str) -> tuple[Template, list, object]:
    from tools.synth import offline_stack

    template, settings = offline_stack(stack)
    problems = workload_problems(template, dict(settings.workload))
    if problems:
        raise UsageError(f"invalid workload for stack '{stack}' ({len(problems)} problem(s)):\n"
                         + "\n".join(f"  - {problem}" for problem in problems))
    return template, estimate(template, dict(settings.workload), {"logs": settings.log_retention_days}), settings


def load_power_tuning(path: str, template: Template) -> dict[str, dict[int, float]]:
    """The measurements file, checked: known functions, sizes Lambda allows, positive durations."""
    try:
        measured = load_json(path, "AWS Lambda Power Tuning results")
    except ValueError as error:
        raise UsageError(str(error)) from None
    functions = {r["name"] for r in template.of_type("aws:lambda/function:Function")}
    if not isinstance(measured, dict) or not measured:
        raise UsageError(f"{path}: expected {{\"<function>\": {{\"<memory MB>\": <average ms>, ...}}, ...}}")
    problems, parsed = [], {}
    for function, results in measured.items():
        if function not in functions:
            problems.append(f"{function}: not a function of this stack ({', '.join(sorted(functions))})")
            continue
        if not isinstance(results, dict) or not results:
            problems.append(f"{function}: expected {{\"<memory MB>\": <average ms>}}")
            continue
        sizes = {}
        for size, ms in results.items():
            if not str(size).isascii() or not str(size).isdigit() or not MEMORY_RANGE_MB[0] <= int(size) <= MEMORY_RANGE_MB[1]:
                problems.append(f"{function}.{size}: memory must be {MEMORY_RANGE_MB[0]}-{MEMORY_RANGE_MB[1]} MB")
            elif isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 < ms < 900_000:
                problems.append(f"{function}.{size}: duration must be milliseconds > 0 (got {ms!r})")
            else:
                sizes[int(size)] = float(ms)
        parsed[function] = sizes
    if problems:
        raise UsageError(f"invalid power tuning file {path} ({len(problems)} problem(s)):\n"
                         + "\n".join(f"  - {problem}" for problem in problems))
    return parsed


def recommendations(stack: str, template: Template, settings: object, measured: dict[str, dict[int, float]],
                    strategy: str) -> list[dict[str, object]]:
    """Per function: the pick, its current memory, the monthly effect at the stack's workload."""
    workload = dict(getattr(settings, "workload", {}))
    functions = {r["name"]: r for r in template.of_type("aws:lambda/function:Function")}
    rows = []
    for name, sizes in sorted(measured.items()):
        inputs = functions[name]["inputs"]
        arch = inputs["architectures"][0]
        current = int(inputs.get("memorySize", 128))
        memory = pick_memory(sizes, arch, strategy)
        spec = (workload.get("functions") or {}).get(name) or {}
        mapping = next((m["inputs"] for m in template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
                        if f":function:{inputs.get('name')}" in str(m["inputs"].get("functionName", ""))), {})
        invocations, seconds = _function_volume(spec, int(mapping.get("batchSize", 1))) if spec else (0.0, 0.0)
        price = p.LAMBDA_GB_SECOND[arch][0][1]
        # Durations as measured where we can, else the workload's own: GB-seconds at each size.
        before, after = (invocations * sizes.get(mb, seconds * 1000) / 1000 * mb / 1024 * price
                         for mb in (current, memory))
        rows.append({"function": name, "currentMemoryMb": current, "memoryMb": memory, "strategy": strategy,
                     "monthlyEffect": round(after - before, 2),
                     "command": f"pulumi config set --path 'functionMemoryMb.{name}' {memory} --stack {stack}"})
    return rows


def main(argv: list[str] | None = None) -> int:
    from system.settings import SettingsError

    parser = argparse.ArgumentParser(prog="python -m tools.cost", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument("--power-tuning", metavar="FILE", help="measured durations per memory size, per function")
    parser.add_argument("--strategy", default="balanced", choices=("cost", "speed", "balanced"))
    args = parser.parse_args(argv)
    try:
        template, items, settings = report(args.stack)
        rows = (recommendations(args.stack, template, settings, load_power_tuning(args.power_tuning, template),
                                args.strategy) if args.power_tuning else None)
    except (SettingsError, FileNotFoundError, UsageError) as error:
        print(error, file=sys.stderr)
        return 2
    if rows is not None:
        if args.json:
            json.dump({"stack": args.stack, "recommendations": rows}, sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        for row in rows:
            effect = row["monthlyEffect"]
            print(f"{row['function']}: {row['currentMemoryMb']} -> {row['memoryMb']} MB ({row['strategy']}), "
                  f"{'+' if effect >= 0 else '-'}${abs(effect):.2f} a month at the stack's workload")
            print(f"  {row['command']}")
        return 0
    total = round(sum(i.monthly for i in items), 2)
    baseline = round(sum(i.baseline for i in items), 2)
    if args.json:
        json.dump({"stack": args.stack, "currency": "USD", "monthly_total": total, "baseline_monthly_total": baseline,
                   "items": [{"resource": i.resource, "service": i.service, "monthly": round(i.monthly, 4),
                              "detail": i.detail} for i in items]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    by_service: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for item in items:
        by_service[item.service][0] += item.monthly
        by_service[item.service][1] += item.baseline
    print(f"Monthly estimate for stack '{args.stack}' (USD, us-east-1 prices)")
    for item in sorted(items, key=lambda i: -i.monthly):
        if item.monthly >= 0.005:
            print(f"  {item.monthly:10.2f}  {item.service:16s} {item.resource.rsplit('::', 1)[-1]}")
    print("By service:               tuned    baseline")
    for service, (tuned, base) in sorted(by_service.items(), key=lambda kv: -kv[1][0]):
        print(f"  {service:20s} {tuned:10.2f}  {base:10.2f}")
    gradual = sorted((i.resource.rsplit("::", 1)[-1], i.detail["deployment"]) for i in items
                     if i.service == "Lambda" and i.detail.get("deployment", "AllAtOnce") != "AllAtOnce")
    if gradual:  # CodeDeploy's Lambda deployments are free: listed, priced at 0
        print("Gradual deployments (CodeDeploy, no charge for Lambda):")
        print("\n".join(f"  {name:40s} {how}" for name, how in gradual))
    credit = free_tier_credit(items)
    print(f"Total: {total:.2f} (with the free tier: {max(total - credit, 0):.2f}); untuned baseline {baseline:.2f}; "
          f"saving {baseline - total:.2f} ({(1 - total / baseline) * 100 if baseline else 0:.0f}%), "
          f"tuned/baseline = {total / baseline if baseline else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
