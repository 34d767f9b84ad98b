"""The reference orders system: how the components are wired for this project."""
