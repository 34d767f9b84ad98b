"""Reusable Pulumi components for event-driven serverless systems on AWS.

Import each component from its module (``components.webhook_ingestion.WebhookIngestion``, ...):
this package is also shipped into Lambda archives for ``components.runtime``, so it imports nothing.
"""

__all__: list[str] = []
