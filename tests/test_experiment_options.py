"""The shipped options schema (read by the TUI without Keras) matches the Config dataclasses."""

from vitlab.experiments import names, options


def test_shipped_schema_is_fresh():
    assert options.shipped() == options.schema(), "run: python -m vitlab.experiments.options --write"


def test_schema_lists_every_experiment_with_defaults():
    schema = options.shipped()
    assert sorted(schema) == sorted(names())
    occlusion = {o["name"]: o for o in schema["occlusion"]["options"]}
    assert "levels" in occlusion and occlusion["levels"]["type"].startswith("list")
