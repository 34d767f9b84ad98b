"""Replay archived domain events for a time window (EventBridge StartReplay).

    python -m tools.replay <stack> --from 2026-11-23T10:00:00Z --to 2026-11-23T11:00:00Z [--subscriber NAME]...
    python -m tools.replay <stack> --status NAME

Events go back onto the stack's bus; with --subscriber only those subscribers' rules receive them
(consumers are idempotent on the event id, so a replay over already-handled events is harmless).
Names come from the offline synth; the replay uses your AWS credentials.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from tools.template import Template


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_replay(events: Any, template: Template, start: datetime, end: datetime, subscribers: list[str],
                 now: datetime | None = None) -> str:
    bus = template.one("aws:cloudwatch/eventBus:EventBus")["inputs"]["name"]
    archive = template.one("aws:cloudwatch/eventArchive:EventArchive")["inputs"]["name"]
    rules = {r["name"].removesuffix("-rule"): r["inputs"]["name"] for r in template.of_type("aws:cloudwatch/eventRule:EventRule")}
    unknown = [s for s in subscribers if s not in rules]
    if unknown:
        raise ValueError(f"unknown subscribers {unknown}; one of {sorted(rules)}")
    destination: dict[str, Any] = {"Arn": events.describe_event_bus(Name=bus)["Arn"]}
    if subscribers:
        destination["FilterArns"] = [events.describe_rule(Name=rules[s], EventBusName=bus)["Arn"] for s in subscribers]
    name = f"replay-{(now or datetime.now(UTC)).strftime('%Y%m%d%H%M%S')}"
    events.start_replay(ReplayName=name, EventSourceArn=events.describe_archive(ArchiveName=archive)["ArchiveArn"],
                        EventStartTime=start, EventEndTime=end, Destination=destination)
    return name


def main(argv: list[str] | None = None, events: Any = None) -> int:
    from system.settings import SettingsError
    from tools.synth import offline_stack

    parser = argparse.ArgumentParser(prog="python -m tools.replay", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--from", dest="start", help="window start, ISO-8601 (UTC if no offset)")
    parser.add_argument("--to", dest="end", help="window end, ISO-8601")
    parser.add_argument("--subscriber", action="append", default=[], help="replay only to this subscriber's rule")
    parser.add_argument("--status", metavar="REPLAY", help="show a replay's state instead of starting one")
    args = parser.parse_args(argv)
    try:
        template, settings = offline_stack(args.stack)
    except (SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    from tools.aws_errors import run_reporting_aws_errors

    return run_reporting_aws_errors(lambda: _act(args, events, settings, template))


def _act(args: argparse.Namespace, events: Any, settings: Any, template: Any) -> int:
    if events is None:
        import boto3

        events = boto3.client("events", region_name=settings.region)
    if args.status:
        replay = events.describe_replay(ReplayName=args.status)
        print(f"{replay['ReplayName']}: {replay['State']} {replay.get('StateReason', '')}".rstrip())
        return 0
    try:
        start, end = parse_time(args.start or ""), parse_time(args.end or "")
    except ValueError:
        print("--from and --to are required ISO-8601 times", file=sys.stderr)
        return 2
    if start >= end:
        print("--from must be before --to", file=sys.stderr)
        return 2
    try:
        name = start_replay(events, template, start, end, args.subscriber)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"replay {name} started; follow it with: python -m tools.replay {args.stack} --status {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
