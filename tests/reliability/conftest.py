"""The handlers' moto fixtures (tests/lambdas/conftest.py), shared by the reliability matrix."""

from tests.lambdas.conftest import aws, aws_environment, lambda_context  # noqa: F401
