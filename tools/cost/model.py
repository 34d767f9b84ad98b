"""Monthly cost of a stack: its synth output priced with its workload, tuned and untuned.

The workload (stack setting `workload`, YAML) gives monthly volumes by logical resource name:

    functions:                 # API, job and direct targets: invocations and duration
      api-orders: {invocations: 20000000, durationMs: 45}
      outbox-relay: {records: 6000000, msPerRecord: 8, overheadMs: 20}   # fed by a mapping: records
      activity: {records: 1.6e7, msPerRecord: 1, overheadMs: 30,
                 tableWrites: {table: activity-activity-aggregates, perInvocation: 2, perRecord: 2, perRecordCap: 10}}
    tables: {api-orders: {writes: 4.0e7, reads: 3.0e7, storageGb: 50}}
    streams: {activity: {avgKb: 1}}
    events: {avgKb: 1}
    logs: {gbPerMonth: 60}
    xraySampleRate: 0.05

Everything else (queue messages, events published, stream records, HTTP requests) is derived
from the functions that consume or serve them. The baseline prices the same workload untuned:
x86_64, 1,024 MB, batch size 1 without a batching window, a REST API.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tools.cost import prices as p
from tools.template import Template, function_deployments

BASELINE_MEMORY_MB = 1024
BASELINE_ARCH = "x86_64"


@dataclass
class Item:
    resource: str
    service: str
    monthly: float
    baseline: float
    detail: dict[str, Any] = field(default_factory=dict)


def _function_volume(spec: dict[str, Any], batch: int) -> tuple[float, float]:
    """(invocations, seconds per invocation) for a function, given the records per batch."""
    if "records" in spec:
        records = float(spec["records"])
        invocations = math.ceil(records / max(batch, 1))
        per_batch = records / invocations if invocations else 0
        return invocations, (float(spec.get("overheadMs", 20)) + float(spec.get("msPerRecord", 5)) * per_batch) / 1000
    return float(spec.get("invocations", 0)), float(spec.get("durationMs", 100)) / 1000


def _lambda_cost(invocations: float, seconds: float, memory_mb: float, arch: str, provisioned: int) -> tuple[float, dict]:
    gb_seconds = invocations * seconds * memory_mb / 1024
    requests = invocations / 1e6 * p.LAMBDA_REQUEST_PER_MILLION
    if provisioned:
        configured = provisioned * memory_mb / 1024 * p.SECONDS_PER_MONTH * p.LAMBDA_PROVISIONED_CONFIGURED_GB_SECOND[arch]
        duration = gb_seconds * p.LAMBDA_PROVISIONED_DURATION_GB_SECOND[arch]
    else:
        configured, duration = 0.0, p.tiered(gb_seconds, p.LAMBDA_GB_SECOND[arch])
    return requests + duration + configured, {"invocations": round(invocations), "gbSeconds": round(gb_seconds),
                                              "arch": arch, "memoryMb": memory_mb, "provisioned": provisioned}


def estimate(template: Template, workload: dict[str, Any], retention: dict[str, int] | None = None) -> list[Item]:
    """Priced items for the stack (free tier not applied)."""
    functions = workload.get("functions") or {}
    by_physical = {r["inputs"].get("name"): r for r in template.of_type("aws:lambda/function:Function")}
    mappings = {str(m["inputs"].get("functionName", "")).split(":function:")[-1].split(":")[0]: m["inputs"]
                for m in template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")}
    provisioned = {r["inputs"].get("functionName"): int(r["inputs"].get("provisionedConcurrentExecutions", 0))
                   for r in template.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")}
    deployments = function_deployments(template)
    items: list[Item] = []
    served: dict[str, float] = defaultdict(float)   # source physical name -> records consumed from it
    invocations_total = baseline_invocations_total = 0.0
    batch_writes: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # table -> [tuned, baseline] writes

    for physical, function in by_physical.items():
        spec = functions.get(function["name"], {})
        mapping = mappings.get(physical)
        batch = int(mapping.get("batchSize", 10)) if mapping else 1
        window = int(mapping.get("maximumBatchingWindowInSeconds", 0) or 0) if mapping else 0
        effective = batch if window or not mapping else min(batch, 2)  # without a window batches rarely fill
        invocations, seconds = _function_volume(spec, effective)
        memory, arch = float(function["inputs"].get("memorySize", 128)), function["inputs"]["architectures"][0]
        tuned, detail = _lambda_cost(invocations, seconds, memory, arch, provisioned.get(physical, 0))
        base_invocations, base_seconds = _function_volume(spec, 1)
        baseline, _ = _lambda_cost(base_invocations, base_seconds, BASELINE_MEMORY_MB, BASELINE_ARCH, 0)
        invocations_total += invocations
        baseline_invocations_total += base_invocations
        writes = spec.get("tableWrites")
        if writes:  # writes that depend on the batch: e.g. one aggregate update per distinct key in it
            for index, count in enumerate((invocations, base_invocations)):
                records = float(spec.get("records", 0))
                per_invocation_records = min(records / count if count else 0, float(writes.get("perRecordCap", 1e9)))
                batch_writes[writes["table"]][index] += count * (float(writes.get("perInvocation", 0))
                                                                 + float(writes.get("perRecord", 0)) * per_invocation_records)

        # CodeDeploy charges nothing for Lambda deployments; shown so the report says how code ships.
        items.append(Item(function["urn"], "Lambda", tuned, baseline, {**detail, "deployment": deployments[physical]}))
        if mapping:
            source = str(mapping.get("eventSourceArn", ""))
            served[_source_name(source)] += float(spec.get("records", 0))
            if ":sqs:" in source:
                served["__sqs_batches__" + _source_name(source)] = invocations

    for queue in template.of_type("aws:sqs/queue:Queue"):
        name = queue["inputs"].get("name")
        messages = served.get(name, 0.0)
        batches = served.get("__sqs_batches__" + name, 0.0)
        kind = "fifo" if queue["inputs"].get("fifoQueue") else "standard"
        tuned_requests = messages + 2 * batches            # send, then receive and delete per batch
        baseline_requests = 3 * messages                     # one message per receive and delete
        items.append(Item(queue["urn"], "SQS", tuned_requests / 1e6 * p.SQS_PER_MILLION[kind],
                          baseline_requests / 1e6 * p.SQS_PER_MILLION[kind], {"requests": round(tuned_requests)}))

    api_requests = sum(float((functions.get(f["name"]) or {}).get("invocations", 0))
                       for f in template.of_type("aws:lambda/function:Function")
                       if any(i["inputs"].get("integrationUri", "").endswith(f":function:{f['inputs'].get('name')}")
                              or f":function:{f['inputs'].get('name')}:" in i["inputs"].get("integrationUri", "")
                              for i in template.of_type("aws:apigatewayv2/integration:Integration")))
    for api in template.of_type("aws:apigatewayv2/api:Api"):
        items.append(Item(api["urn"], "API Gateway", p.tiered(api_requests / 1e6, p.HTTP_API_PER_MILLION),
                          p.tiered(api_requests / 1e6, p.REST_API_PER_MILLION), {"requests": round(api_requests)}))
    # Detailed (per-route) metrics where a stage turns them on: custom metrics, tuned and baseline alike.
    routes_per_api = Counter(r["inputs"].get("apiId") for r in template.of_type("aws:apigatewayv2/route:Route"))
    for stage in template.of_type("aws:apigatewayv2/stage:Stage"):
        inputs = stage["inputs"]
        if (inputs.get("defaultRouteSettings") or {}).get("detailedMetricsEnabled"):
            routes = routes_per_api[inputs.get("apiId")]
        else:
            routes = sum(1 for s in inputs.get("routeSettings") or [] if s.get("detailedMetricsEnabled"))
        if routes:
            metrics = routes * p.HTTP_API_DETAILED_METRICS_PER_ROUTE
            cost = metrics * p.CLOUDWATCH_CUSTOM_METRIC_MONTH
            items.append(Item(stage["urn"], "CloudWatch", cost, cost, {"detailedRouteMetrics": metrics}))

    events_kb = float((workload.get("events") or {}).get("avgKb", 1))
    for bus in template.of_type("aws:cloudwatch/eventBus:EventBus"):
        published = sum(v for k, v in served.items() if "/stream/" in k)  # the outbox relay's records
        units = published * math.ceil(events_kb / 64)
        cost = units / 1e6 * p.EVENTBRIDGE_EVENT_PER_MILLION
        items.append(Item(bus["urn"], "EventBridge", cost, cost, {"events": round(published)}))
        for archive in template.of_type("aws:cloudwatch/eventArchive:EventArchive"):
            gb = published * events_kb / 1e6
            months = float(archive["inputs"].get("retentionDays", 0)) / 30
            cost = gb * p.EVENTBRIDGE_ARCHIVE_PER_GB_PROCESSED + gb * months * p.EVENTBRIDGE_ARCHIVE_PER_GB_MONTH
            items.append(Item(archive["urn"], "EventBridge", cost, cost, {"gbProcessed": round(gb, 2)}))

    for schedule in template.of_type("aws:scheduler/schedule:Schedule"):
        runs = _runs_per_month(str(schedule["inputs"].get("scheduleExpression", "")))
        cost = runs / 1e6 * p.SCHEDULER_PER_MILLION
        items.append(Item(schedule["urn"], "Scheduler", cost, cost, {"invocations": round(runs)}))

    streams = workload.get("streams") or {}
    for stream in template.of_type("aws:kinesis/stream:Stream"):
        name = stream["inputs"].get("name")
        records = served.get(name, 0.0)
        kb = float((streams.get(stream["name"].removesuffix("-stream")) or {}).get("avgKb", 1))
        if stream["inputs"].get("shardCount"):
            cost = (stream["inputs"]["shardCount"] * p.HOURS_PER_MONTH * p.KINESIS_SHARD_HOUR
                    + records * math.ceil(kb / 25) / 1e6 * p.KINESIS_PUT_UNIT_PER_MILLION)
        else:
            gb = records * kb / 1e6
            cost = p.HOURS_PER_MONTH * p.KINESIS_ON_DEMAND_STREAM_HOUR + gb * (p.KINESIS_ON_DEMAND_GB_IN
                                                                                + p.KINESIS_ON_DEMAND_GB_OUT)
        items.append(Item(stream["urn"], "Kinesis", cost, cost, {"records": round(records)}))

    tables = workload.get("tables") or {}
    for table in template.of_type("aws:dynamodb/table:Table"):
        volume = tables.get(table["name"]) or {}
        storage = float(volume.get("storageGb", 0))
        pitr = (table["inputs"].get("pointInTimeRecovery") or {}).get("enabled")
        fixed = (float(volume.get("writes", 0)) / 1e6 * p.DYNAMODB_WRITE_PER_MILLION
                 + float(volume.get("reads", 0)) / 1e6 * p.DYNAMODB_READ_PER_MILLION
                 + storage * p.DYNAMODB_STORAGE_GB_MONTH + (storage * p.DYNAMODB_PITR_GB_MONTH if pitr else 0))
        tuned_writes, baseline_writes = batch_writes.get(table["name"], (0.0, 0.0))
        items.append(Item(table["urn"], "DynamoDB", fixed + tuned_writes / 1e6 * p.DYNAMODB_WRITE_PER_MILLION,
                          fixed + baseline_writes / 1e6 * p.DYNAMODB_WRITE_PER_MILLION,
                          {"pitr": bool(pitr), "batchWrites": round(tuned_writes)}))

    topics = workload.get("topics") or {}
    for topic in template.of_type("aws:sns/topic:Topic"):
        publishes = float((topics.get(topic["name"]) or {}).get("publishes", 0))
        cost = publishes / 1e6 * p.SNS_PUBLISH_PER_MILLION  # deliveries to SQS and Lambda are free
        items.append(Item(topic["urn"], "SNS", cost, cost, {"publishes": round(publishes)}))

    workflows = workload.get("workflows") or {}
    for machine in template.of_type("aws:sfn/stateMachine:StateMachine"):
        volume = workflows.get(machine["name"]) or {}
        transitions = float(volume.get("executions", 0)) * float(volume.get("transitionsPerExecution", 0))
        # Standard bills state transitions; Express bills requests and duration (not modelled: none here).
        cost = transitions / 1000 * p.STEP_FUNCTIONS_PER_THOUSAND_TRANSITIONS
        items.append(Item(machine["urn"], "Step Functions", cost, cost, {"transitions": round(transitions),
                                                                          "type": machine["inputs"].get("type")}))

    for alarm in template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        metrics = sum(1 for q in alarm["inputs"].get("metricQueries") or [] if "metric" in q) or 1
        cost = metrics * p.CLOUDWATCH_ALARM_MONTH
        items.append(Item(alarm["urn"], "CloudWatch", cost, cost, {"metrics": metrics}))
    for alarm in template.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm"):
        items.append(Item(alarm["urn"], "CloudWatch", p.CLOUDWATCH_COMPOSITE_ALARM_MONTH, p.CLOUDWATCH_COMPOSITE_ALARM_MONTH))
    for secret in template.of_type("aws:secretsmanager/secret:Secret"):
        items.append(Item(secret["urn"], "Secrets Manager", p.SECRET_MONTH, p.SECRET_MONTH))

    log_volume = workload.get("logs") or {}
    logs_gb = float(log_volume.get("gbPerMonth", 0))
    platform_kb = float(log_volume.get("kbPerInvocation", 0.3))  # Lambda's own START/END/REPORT lines
    retention_months = (retention or {}).get("logs", 30) / 30

    def log_cost(invocations: float) -> float:
        gb = logs_gb + invocations * platform_kb / 1e6
        return gb * p.CLOUDWATCH_LOGS_INGEST_GB + gb * retention_months * p.CLOUDWATCH_LOGS_STORAGE_GB_MONTH

    items.append(Item(f"urn:pulumi:{template.stack}::{template.project}::logs", "CloudWatch Logs",
                      log_cost(invocations_total), log_cost(baseline_invocations_total), {"gbIngested": logs_gb}))
    rate = float(workload.get("xraySampleRate", 0.05))
    items.append(Item(f"urn:pulumi:{template.stack}::{template.project}::xray", "X-Ray",
                      invocations_total * rate / 1e6 * p.XRAY_PER_MILLION_TRACES,
                      baseline_invocations_total * rate / 1e6 * p.XRAY_PER_MILLION_TRACES,
                      {"traces": round(invocations_total * rate)}))
    return items


def free_tier_credit(items: list[Item]) -> float:
    """What the account-level free tier takes off the tuned total (Lambda, SQS, Scheduler, X-Ray)."""
    lambdas = [i for i in items if i.service == "Lambda"]
    requests = sum(i.detail.get("invocations", 0) for i in lambdas)
    gb_seconds = sum(i.detail.get("gbSeconds", 0) for i in lambdas)
    credit = min(requests, p.LAMBDA_FREE_REQUESTS) / 1e6 * p.LAMBDA_REQUEST_PER_MILLION
    credit += min(gb_seconds, p.LAMBDA_FREE_GB_SECONDS) * p.LAMBDA_GB_SECOND["arm64"][0][1]
    sqs = sum(i.detail.get("requests", 0) for i in items if i.service == "SQS")
    credit += min(sqs, p.SQS_FREE_REQUESTS) / 1e6 * p.SQS_PER_MILLION["standard"]
    runs = sum(i.detail.get("invocations", 0) for i in items if i.service == "Scheduler")
    credit += min(runs, p.SCHEDULER_FREE_INVOCATIONS) / 1e6 * p.SCHEDULER_PER_MILLION
    traces = sum(i.detail.get("traces", 0) for i in items if i.service == "X-Ray")
    credit += min(traces, p.XRAY_FREE_TRACES) / 1e6 * p.XRAY_PER_MILLION_TRACES
    return credit


def _source_name(arn: str) -> str:
    if "/stream/" in arn:
        return arn  # table streams are keyed by their ARN
    return arn.rsplit("/", 1)[-1] if ":kinesis:" in arn else arn.rsplit(":", 1)[-1]


def _runs_per_month(expression: str) -> float:
    rate = re.match(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    if rate:
        seconds = int(rate.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[rate.group(2)]
        return p.SECONDS_PER_MONTH / seconds
    return 30.0  # the reference crons run daily


def pick_memory(measured_ms: dict[int, float], arch: str, strategy: str) -> int:
    """AWS Lambda Power Tuning's choice from measured average durations per memory size:
    cheapest (cost), fastest (speed) or the best product of normalised cost and time (balanced)."""
    if not measured_ms or strategy not in ("cost", "speed", "balanced"):
        raise ValueError("need measurements and a strategy: cost, speed or balanced")
    price = p.LAMBDA_GB_SECOND[arch][0][1]
    cost = {m: ms / 1000 * m / 1024 * price + p.LAMBDA_REQUEST_PER_MILLION / 1e6 for m, ms in measured_ms.items()}
    if strategy == "cost":
        return min(cost, key=lambda m: (cost[m], measured_ms[m]))
    if strategy == "speed":
        return min(measured_ms, key=lambda m: (measured_ms[m], cost[m]))
    low_cost, low_time = min(cost.values()), min(measured_ms.values())
    return min(measured_ms, key=lambda m: (cost[m] / low_cost) * (measured_ms[m] / low_time))


FUNCTION_FIELDS = {"invocations", "durationMs", "records", "msPerRecord", "overheadMs", "tableWrites"}
TABLE_WRITE_FIELDS = {"table", "perInvocation", "perRecord", "perRecordCap"}
SECTION_FIELDS = {"tables": {"writes", "reads", "storageGb"}, "streams": {"avgKb"}, "topics": {"publishes"},
                  "workflows": {"executions", "transitionsPerExecution"}}
SINGLE_FIELDS = {"events": {"avgKb"}, "logs": {"gbPerMonth"}}


# What the model reads from a stack's `workload` setting.
WORKLOAD_SECTIONS = ("functions", "tables", "streams", "events", "topics", "workflows", "logs", "xraySampleRate")


def workload_problems(template: Template, workload: dict[str, Any]) -> list[str]:
    """Every way ``workload`` does not fit the stack: names the synth does not have, fields the
    model does not read, negative or non-numeric volumes. An unread value would price nothing."""
    names = {
        "functions": {r["name"] for r in template.of_type("aws:lambda/function:Function")},
        "tables": {r["name"] for r in template.of_type("aws:dynamodb/table:Table")},
        "streams": {r["name"].removesuffix("-stream") for r in template.of_type("aws:kinesis/stream:Stream")},
        "topics": {r["name"] for r in template.of_type("aws:sns/topic:Topic")},
        "workflows": {r["name"] for r in template.of_type("aws:sfn/stateMachine:StateMachine")},
    }
    problems: list[str] = []
    for section in workload:
        if section not in WORKLOAD_SECTIONS:
            hint = difflib.get_close_matches(str(section), WORKLOAD_SECTIONS, n=1, cutoff=0.6)
            problems.append(f"workload: unknown section '{section}'" + (f"; did you mean '{hint[0]}'?" if hint else ""))

    def volume(where: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            problems.append(f"{where}: must be a number >= 0 (got {value!r})")

    def fields(where: str, spec: Any, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping of {', '.join(sorted(allowed))}")
            return {}
        for key in sorted(set(spec) - allowed):
            problems.append(f"{where}.{key}: is not a field the cost model reads ({', '.join(sorted(allowed))})")
        return {k: v for k, v in spec.items() if k in allowed}

    for section in ("functions", *SECTION_FIELDS):
        entries = workload.get(section) or {}
        if not isinstance(entries, dict):
            problems.append(f"workload.{section}: must be a mapping by logical name")
            continue
        for name, spec in entries.items():
            where = f"workload.{section}.{name}"
            if name not in names[section]:
                known = ", ".join(sorted(names[section])) or "none in this stack"
                problems.append(f"{where}: no {section[:-1]} of this stack has that logical name ({known})")
                continue
            for key, value in fields(where, spec, FUNCTION_FIELDS if section == "functions"
                                     else SECTION_FIELDS[section]).items():
                if key != "tableWrites":
                    volume(f"{where}.{key}", value)
                    continue
                writes = fields(f"{where}.tableWrites", value, TABLE_WRITE_FIELDS)
                if writes.get("table") not in names["tables"]:
                    problems.append(f"{where}.tableWrites.table: no table named {writes.get('table')!r}")
                for write_key, write_value in writes.items():
                    if write_key != "table":
                        volume(f"{where}.tableWrites.{write_key}", write_value)
    for section, allowed in SINGLE_FIELDS.items():
        for key, value in fields(f"workload.{section}", workload.get(section) or {}, allowed).items():
            volume(f"workload.{section}.{key}", value)
    rate = workload.get("xraySampleRate", 0.05)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        problems.append(f"workload.xraySampleRate: must be a number from 0 to 1 (got {rate!r})")
    return problems
