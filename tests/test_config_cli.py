"""Typed overrides and the CLI's contract: fast help, one-line errors, exit codes."""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time

import pytest
from helpers import run_cli, run_cli_process

from vitlab import config as config_lib


@dataclasses.dataclass
class Example:
    levels: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.5])
    repeats: int = 1
    mode: str = "random"
    seed: int | None = None
    per_class: bool = False

    def validate(self):
        if self.repeats < 1:
            raise config_lib.ConfigError(f"repeats: must be at least 1, got {self.repeats}")


def test_overrides_are_typed():
    config = config_lib.build(Example, overrides=["levels=0,1/4,0.5", "repeats=3", "per_class=yes", "seed=none"])
    assert config.levels == [0.0, 0.25, 0.5] and config.repeats == 3 and config.per_class is True
    assert config.seed is None


@pytest.mark.parametrize(
    "override, message",
    [
        ("repeat=2", "unknown key 'repeat' (did you mean repeats?)"),
        ("repeats=two", "repeats: expected an integer, got 'two'"),
        ("levels=0,x", "levels: expected a number, got 'x'"),
        ("per_class=maybe", "per_class: expected true or false"),
        ("repeats", "is not key=value"),
        ("repeats=0", "repeats: must be at least 1"),
    ],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(config_lib.ConfigError, match=re.escape(message)):
        config_lib.build(Example, overrides=[override])


def test_typed_values_from_toml_are_checked():
    assert config_lib.build(Example, {"levels": [0, 1], "repeats": 2}).levels == [0.0, 1.0]
    with pytest.raises(config_lib.ConfigError, match="repeats: expected int"):
        config_lib.build(Example, {"repeats": "2"})
    with pytest.raises(config_lib.ConfigError, match="levels: expected a list of float"):
        config_lib.build(Example, {"levels": 0.5})


def test_help_is_fast_and_does_not_import_tensorflow():
    code = (
        "import sys, time; t=time.time(); import vitlab.cli; "
        "print(time.time()-t, 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["False", "False"]
    started = time.perf_counter()
    result = run_cli_process("--help", timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0 and "eval" in result.stdout
    assert time.perf_counter() - started < 3.0  # generous for a loaded CI box; measured ~0.2 s


def test_models_show_reports_timm_parameter_count(capsys):
    code, out, err = run_cli(capsys, "models", "show", "deit_small_distilled_patch16_224", "--json")
    assert code == 0, err
    assert json.loads(out)["parameters"] == 22_436_432


def test_unknown_model_is_one_line_and_exit_2(capsys):
    code, _, err = run_cli(capsys, "models", "show", "deit_smal_patch16_224")
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown model 'deit_smal_patch16_224'; did you mean deit_small_patch16_224")
    assert "Traceback" not in err


def test_unknown_experiment_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "eval", "occlusionn", "--model", "vit_test")
    assert code == 2 and "Traceback" not in err
