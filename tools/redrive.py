"""Move dead-lettered messages back to their source queue (an SQS message move task).

    python -m tools.redrive <stack> --list                     the stack's queues that have a DLQ
    python -m tools.redrive <stack> <queue> [--rate 10]        start moving <queue>'s DLQ back into it
    python -m tools.redrive <stack> <queue> --status           the DLQ's recent move tasks

<queue> is the queue's logical name as `--list` prints it (e.g. payments-webhook-queue). Names
come from the offline synth; the move itself uses your AWS credentials (region from the stack).
Fix the cause first: a message that failed maxReceiveCount times fails again otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tools.template import Template


def queues_with_dlq(template: Template) -> dict[str, tuple[str, str]]:
    """Logical queue name -> (queue name, DLQ name), from the synth output."""
    found = {}
    for queue in template.of_type("aws:sqs/queue:Queue"):
        policy = queue["inputs"].get("redrivePolicy")
        if policy:
            dlq_name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
            found[queue["name"]] = (queue["inputs"]["name"], dlq_name)
    return found


def queue_arn(sqs: Any, name: str) -> str:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def start_redrive(sqs: Any, queue_name: str, dlq_name: str, rate: int | None) -> str:
    request: dict[str, Any] = {"SourceArn": queue_arn(sqs, dlq_name), "DestinationArn": queue_arn(sqs, queue_name)}
    if rate:
        request["MaxNumberOfMessagesPerSecond"] = rate
    return sqs.start_message_move_task(**request)["TaskHandle"]


def main(argv: list[str] | None = None, sqs: Any = None) -> int:
    from system.settings import SettingsError
    from tools.synth import offline_stack

    parser = argparse.ArgumentParser(prog="python -m tools.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("queue", nargs="?")
    parser.add_argument("--list", action="store_true", help="list the stack's queues that have a dead-letter queue")
    parser.add_argument("--status", action="store_true", help="show the DLQ's move tasks instead of starting one")
    parser.add_argument("--rate", type=int, default=None, help="messages per second (default: as fast as SQS allows)")
    args = parser.parse_args(argv)
    try:
        template, settings = offline_stack(args.stack)
    except (SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    queues = queues_with_dlq(template)
    if args.list or not args.queue:
        for logical, (name, dlq) in sorted(queues.items()):
            print(f"{logical:40s} {name}  <-  {dlq}")
        return 0 if args.list else 2
    if args.queue not in queues:
        print(f"unknown queue '{args.queue}'; one of: {', '.join(sorted(queues))}", file=sys.stderr)
        return 2
    if args.rate is not None and not 1 <= args.rate <= 500:
        print("--rate must be 1-500 messages per second", file=sys.stderr)
        return 2
    from tools.aws_errors import run_reporting_aws_errors

    return run_reporting_aws_errors(lambda: _act(args, sqs, settings, queues))


def _act(args: argparse.Namespace, sqs: Any, settings: Any, queues: dict[str, tuple[str, str]]) -> int:
    if sqs is None:
        import boto3

        sqs = boto3.client("sqs", region_name=settings.region)
    name, dlq = queues[args.queue]
    if args.status:
        tasks = sqs.list_message_move_tasks(SourceArn=queue_arn(sqs, dlq), MaxResults=10).get("Results", [])
        for task in tasks:
            print(f"{task.get('Status', '?'):10s} moved {task.get('ApproximateNumberOfMessagesMoved', 0)} of "
                  f"{task.get('ApproximateNumberOfMessagesToMove', '?')}  {task.get('FailureReason', '')}".rstrip())
        return 0
    handle = start_redrive(sqs, name, dlq, args.rate)
    print(f"moving messages from {dlq} back to {name}; task handle: {handle}")
    print(f"follow it with: python -m tools.redrive {args.stack} {args.queue} --status")
    return 0


if __name__ == "__main__":
    sys.exit(main())
