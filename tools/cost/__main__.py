"""Monthly cost estimate of a stack (tuned and untuned baseline), from the offline synth.

    python -m tools.cost <stack> [--json]
    python -m tools.cost <stack> --power-tuning results.json [--strategy cost|speed|balanced]

`results.json`: {"<function logical name>": {"128": ms, "256": ms, ...}} from AWS Lambda Power Tuning.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from tools.cost.model import estimate, free_tier_credit, pick_memory
from tools.template import Template


def report(stack: str) -> tuple[Template, list, object]:
    from tools.synth import offline_stack

    template, settings = offline_stack(stack)
    return template, estimate(template, dict(settings.workload), {"logs": settings.log_retention_days}), settings


def main(argv: list[str] | None = None) -> int:
    from components.settings import SettingsError

    parser = argparse.ArgumentParser(prog="python -m tools.cost", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument("--power-tuning", metavar="FILE", help="measured durations per memory size, per function")
    parser.add_argument("--strategy", default="balanced", choices=("cost", "speed", "balanced"))
    args = parser.parse_args(argv)
    try:
        _, items, settings = report(args.stack)
    except (SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.power_tuning:
        with open(args.power_tuning) as handle:
            measured = json.load(handle)
        for function, results in sorted(measured.items()):
            memory = pick_memory({int(k): float(v) for k, v in results.items()}, settings.architecture, args.strategy)
            print(f"{function}: {memory} MB ({args.strategy}); set it as the function's memory_mb override")
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
    credit = free_tier_credit(items)
    print(f"Total: {total:.2f} (with the free tier: {max(total - credit, 0):.2f}); untuned baseline {baseline:.2f}; "
          f"saving {baseline - total:.2f} ({(1 - total / baseline) * 100 if baseline else 0:.0f}%), "
          f"tuned/baseline = {total / baseline if baseline else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
