"""The orders platform: settings -> platform (provider, alert topic) -> services -> exports."""

from __future__ import annotations

import pulumi

from components.platform import Platform, stack_provider
from components.settings import load_settings

# Validates every setting before a single resource is registered.
settings = load_settings(pulumi.get_stack())
provider = stack_provider(settings)
platform = Platform("platform", settings, provider)

pulumi.export("alertTopicArn", platform.alert_topic.arn)
