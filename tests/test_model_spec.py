"""The one model-spec grammar (vitlab.model_spec), shared by the CLI, recipes and the TUI."""

import pytest

from vitlab import model_spec
from vitlab.errors import UserError

REGISTRY = ("vit_test", "resnet_test")


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "run" / "models").mkdir(parents=True)
    for name in ("final", "teacher"):
        (tmp_path / "run" / "models" / f"{name}.keras").write_bytes(b"")
    return tmp_path / "run"


def test_each_form_parses_to_its_kind(run_dir, tmp_path):
    assert model_spec.parse("vit_test") == model_spec.ModelRef("registry", "vit_test")
    assert model_spec.parse("m.keras").kind == "file" and model_spec.parse("m.keras").display_name == "m"
    assert model_spec.parse(str(run_dir)) == model_spec.ModelRef("run", str(run_dir))
    assert model_spec.parse(f"{run_dir}:teacher") == model_spec.ModelRef("run", str(run_dir), member="teacher")
    assert model_spec.parse(f"{tmp_path}/missing:final").kind == "registry"  # no such run: a (bad) name


def test_run_directories_pick_final_or_the_named_model(run_dir):
    assert model_spec.choose_run_model(model_spec.parse(str(run_dir))) == ("final", None)
    assert model_spec.choose_run_model(model_spec.parse(f"{run_dir}:teacher")) == ("teacher", None)
    (run_dir / "models" / "final.keras").unlink()
    assert model_spec.choose_run_model(model_spec.parse(str(run_dir))) == ("teacher", None)  # the only one
    (run_dir / "models" / "student.keras").write_bytes(b"")
    _, problem = model_spec.choose_run_model(model_spec.parse(str(run_dir)))
    assert problem == f"{run_dir}: choose a model with {run_dir}:NAME (models there: student, teacher)"


def test_problems_are_one_line_with_close_names(run_dir, tmp_path):
    assert model_spec.problem("vit_test", REGISTRY) is None
    assert model_spec.problem("vit_tset", REGISTRY) == "unknown model 'vit_tset'; did you mean vit_test?"
    registry = [*REGISTRY, "resnet50"]
    assert model_spec.problem("resnet50.tv_in1k", registry) is None  # a timm tag vitlab knows
    assert model_spec.problem("resnet50.b9_in1k", registry).startswith("unknown model 'resnet50.b9_in1k'")
    assert model_spec.problem(str(tmp_path / "nope.keras"), REGISTRY).endswith("nope.keras does not exist")
    assert model_spec.problem(f"{run_dir}:other", REGISTRY) == (
        f"{run_dir}: no model 'other' there (models: final, teacher)"
    )


def test_a_registered_prefix_expands_to_another_spec(run_dir, monkeypatch):
    monkeypatch.setattr(model_spec, "PREFIXES", {})
    roles = {"vit": f"{run_dir}:final"}

    def zoo(role):
        if role not in roles:
            raise UserError(f"zoo: no model with role {role!r} (roles: {', '.join(roles)})")
        return roles[role]

    model_spec.register_prefix("zoo", zoo)
    assert model_spec.parse("zoo:vit") == model_spec.ModelRef("prefix", "vit", prefix="zoo")
    assert model_spec.expand("zoo:vit") == model_spec.ModelRef("run", str(run_dir), member="final")
    assert model_spec.problem("zoo:vit", REGISTRY) is None
    assert model_spec.problem("zoo:cnn", REGISTRY) == "zoo: no model with role 'cnn' (roles: vit)"
    model_spec.register_prefix("loop", lambda value: f"loop:{value}")
    with pytest.raises(UserError, match="expands into itself"):
        model_spec.expand("loop:x")
