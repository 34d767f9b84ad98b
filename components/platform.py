"""Per-stack shared resources: the alert topic (and its key), the event bus and its archive, and
the schedule group."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, MetricRef, build_alarm, build_alarms, scheduler_alarm_specs
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext, child_options
from components.core.defaults import StackDefaults
from components.core.errors import ComponentConfigError
from components.core.iam import deny_insecure_transport, policy_document
from components.core.naming import physical_name
from components.core.rollout import build_deployment_application, is_gradual

__all__ = ["Platform", "PlatformArgs", "stack_provider"]

COMPONENT_TYPE = "serverless:index:Platform"


def stack_provider(defaults: StackDefaults, name: str = "aws") -> aws.Provider:
    """The one provider of a stack: its region and default tags. Give it once, to each top-level
    component (``ResourceOptions(providers=[provider])``); their children inherit it."""
    return aws.Provider(name, region=defaults.region, default_tags={"tags": dict(defaults.tags)})


@dataclass(frozen=True)
class PlatformArgs:
    defaults: StackDefaults = field(default_factory=StackDefaults)
    """@default the code defaults. Alert routing comes from ``defaults.alerts``."""
    event_archive_retention_days: int = bounded(7, 1, 3650, " days")
    """@default 7: how long the bus's archive keeps events for replay."""
    account_alarms: bool = True
    """@default True: this stack creates the account-wide alarms (one stack per account should)."""


# Lambda's concurrency in the account as Service Quotas sees it (CloudWatch User Guide, "Visualizing
# your service quotas and setting alarms"): SERVICE_QUOTA() reads the applied quota, so the alarm
# follows a raised quota without a setting.
LAMBDA_CONCURRENCY_USAGE = {"Service": "Lambda", "Type": "Resource", "Resource": "ConcurrentExecutions",
                            "Class": "None"}
ACCOUNT_CONCURRENCY_ALARM_PERCENT = 90


def account_concurrency_spec() -> AlarmSpec:
    return AlarmSpec(
        family="concurrency", namespace="AWS/Usage", metric_name="ConcurrentExecutionsPercentOfQuota",
        dimensions={}, statistic=None, threshold=ACCOUNT_CONCURRENCY_ALARM_PERCENT,
        sum_of=(MetricRef("ResourceCount", LAMBDA_CONCURRENCY_USAGE, "Maximum"),),
        expression="100 * m0 / SERVICE_QUOTA(m0)",
        description=f"The account's Lambda concurrency is above {ACCOUNT_CONCURRENCY_ALARM_PERCENT}% of its quota: "
                    "functions will be throttled.",
    )


class Platform(pulumi.ComponentResource):
    """The stack's alert topic (CloudWatch alarm and OK actions go here) and its KMS key.

    CloudWatch cannot publish to a topic encrypted with the AWS-managed ``alias/aws/sns`` key, so
    the topic uses a customer-managed key whose policy lets CloudWatch use it.
    """

    alert_topic: aws.sns.Topic
    alert_key: aws.kms.Key
    stack: StackContext
    """What every component of the stack takes as ``args.stack``."""

    def __init__(self, name: str, args: PlatformArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        args = args or PlatformArgs()
        problems = out_of_bounds(args)
        if problems:
            raise ComponentConfigError("platform: " + "; ".join(problems))
        settings = args.defaults
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        child = child_options(self)
        alarm_arns = pulumi.Output.concat("arn:aws:cloudwatch:", settings.region, ":", account_id, ":alarm:*")

        self.alert_key = aws.kms.Key(
            f"{name}-alerts-key",
            description=f"Encrypts the {settings.service}-{settings.stack} alert topic; usable by CloudWatch",
            enable_key_rotation=True,
            deletion_window_in_days=30 if settings.production else 7,
            policy=policy_document([
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account_id, ":root")},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchAlarmsEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ]),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-alerts-key-alias",
            name=f"alias/{physical_name(settings, 'alerts')}",
            target_key_id=self.alert_key.key_id,
            opts=child,
        )
        alerts = settings.alerts
        self.alert_topic = self._alert_topic(name, "alerts", settings, account_id, alarm_arns,
                                             [("email", e) for e in alerts.emails]
                                             + [("https", u) for u in alerts.https_endpoints])
        # The notices topic: what each metric alarm says (critical and warning). Paging endpoints
        # subscribe only to the alert topic, where the composite service-health alarm goes, so an
        # incident pages once. Its readers: warningAlertEmails, or the alert emails.
        notice_emails = alerts.warning_emails if alerts.separate_warning_topic else alerts.emails
        self.warning_topic = self._alert_topic(name, "alerts-warning", settings, account_id, alarm_arns,
                                               [("email", e) for e in notice_emails])
        # One lookup of the Powertools layer for the whole stack.
        self.stack = StackContext(
            defaults=settings, alert_topic_arn=self.alert_topic.arn, account_id=account_id,
            notice_topic_arn=self.warning_topic.arn,
        ).resolved(self)
        if args.account_alarms:  # one per account: accountAlarmsStack names the stack that owns it
            build_alarm(self.stack, f"{name}-account-concurrency", account_concurrency_spec(), self)
        # The stack's domain event bus, archived so events can be replayed. It has no resource
        # policy: only principals of this account with IAM permission may put events.
        self.event_bus = aws.cloudwatch.EventBus(f"{name}-events", name=physical_name(settings, "events"), opts=child)
        aws.cloudwatch.EventArchive(
            f"{name}-events-archive",
            name=physical_name(settings, "events-archive", max_length=48),
            event_source_arn=self.event_bus.arn,
            retention_days=args.event_archive_retention_days,
            opts=child,
        )
        self.schedule_group = aws.scheduler.ScheduleGroup(
            f"{name}-schedules", name=physical_name(settings, "schedules"), opts=child)
        self.stack = replace(self.stack, schedule_group_name=self.schedule_group.name)
        # One CodeDeploy application for the stack, only where a class of functions deploys gradually.
        self.deployments = None
        if any(is_gradual(profile.deployment) for profile in settings.profiles.values()):
            self.deployments, role = build_deployment_application(self.stack, name, self)
            self.stack = replace(self.stack, deployment_application=self.deployments.name, deployment_role_arn=role.arn)
        # Scheduler reports per schedule group, so the group-wide alarms live with the group.
        build_alarms(self.stack, f"{name}-schedules", scheduler_alarm_specs(self.schedule_group.name), self)
        self.register_outputs({"alertTopicArn": self.alert_topic.arn, "scheduleGroup": self.schedule_group.name,
                               "eventBusName": self.event_bus.name})

    def _alert_topic(self, name: str, topic: str, settings: StackDefaults, account_id: pulumi.Input[str],
                     alarm_arns: pulumi.Input[str], subscriptions: list[tuple[str, str]]) -> aws.sns.Topic:
        """A topic CloudWatch alarms in this account may publish to (over TLS), and its subscribers."""
        child = child_options(self)
        alert_topic = aws.sns.Topic(
            f"{name}-{topic}",
            name=physical_name(settings, topic, max_length=256),
            kms_master_key_id=self.alert_key.arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-{topic}-policy",
            arn=alert_topic.arn,
            policy=policy_document([
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": alert_topic.arn,
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": alarm_arns},
                        "StringEquals": {"aws:SourceAccount": account_id},
                    },
                },
                deny_insecure_transport("sns:Publish", [alert_topic.arn]),
            ]),
            opts=child,
        )
        for index, (protocol, endpoint) in enumerate(subscriptions):
            aws.sns.TopicSubscription(f"{name}-{topic}-{protocol}-{index}", topic=alert_topic.arn, protocol=protocol,
                                      endpoint=endpoint, opts=child)
        return alert_topic
