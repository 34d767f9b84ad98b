"""A local cloud: a stack's synth output deployed into moto server on 127.0.0.1, its functions run as
their own roles, its event sources played the way Lambda plays them. See ``python -m tools.local --help``."""
