"""Scenario files: the schema and the YAML loader."""
