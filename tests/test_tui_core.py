"""The TUI's pieces without a terminal: run index, launcher, form rules, catalog, imports."""

import subprocess
import sys
import time

import pytest
from sample_runs import make_broken_runs, make_run

from vitlab import config as config_lib
from vitlab.results import RunStore
from vitlab.tui import catalog, form_rules
from vitlab.tui.catalog import Option
from vitlab.tui.launcher import Launcher, LaunchRequest, last_line
from vitlab.tui.run_index import RunIndex, format_duration, headline_of


def test_importing_the_app_never_loads_tensorflow_or_keras():
    code = (
        "import sys; import vitlab.tui.app, vitlab.tui.screens.launch, vitlab.tui.screens.detail, "
        "vitlab.tui.screens.compare, vitlab.commands.tui; "
        "print([m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_index_reads_runs_and_names_what_is_wrong_with_broken_ones(tmp_path):
    make_run(tmp_path, 0, experiment="occlusion", models=["vit_test", "resnet_test"])
    make_broken_runs(tmp_path)
    index = RunIndex(tmp_path)
    changed, removed = index.refresh()
    by_status = {row.status: row for row in changed}
    assert sorted(by_status) == ["corrupt", "done", "incomplete", "other version"]
    assert "format version 99" in by_status["other version"].reason
    assert "unreadable" in by_status["corrupt"].reason
    assert "no run.json" in by_status["incomplete"].reason
    done = by_status["done"]
    assert done.models == "vit_test, resnet_test" and done.dataset == "shapes"
    assert done.headline.startswith("acc@0.5 ")  # step and model prefixes dropped


def test_index_rereads_only_what_changed(tmp_path, monkeypatch):
    runs = [make_run(tmp_path, i, with_result=False) for i in range(3)]
    index = RunIndex(tmp_path)
    assert len(index.refresh()[0]) == 3
    reads = []
    import vitlab.tui.run_index as run_index

    original = run_index.read_row
    monkeypatch.setattr(run_index, "read_row", lambda *a, **k: reads.append(a[0]) or original(*a, **k))
    assert index.refresh() == ([], [])
    assert reads == []
    time.sleep(0.01)
    runs[1].update(status="failed", error="boom")
    changed, _ = index.refresh()
    assert [row.id for row in changed] == [runs[1].id] and changed[0].status == "failed"
    assert reads == [runs[1].path]
    import shutil

    shutil.rmtree(runs[0].path)
    assert index.refresh() == ([], [runs[0].id])


def test_running_run_follows_events_and_dead_process_reads_interrupted(tmp_path):
    run = RunStore(tmp_path).create(name="occlusion", kind="eval", config={})
    run.set_status("running")  # our own pid: alive
    run.event("progress", step="occlusion", done=3, total=12, acc=0.5)
    index = RunIndex(tmp_path)
    (row,), _ = index.refresh()
    assert row.status == "running" and row.progress.done == 3 and row.progress.metrics == {"acc": 0.5}
    run.event("progress", step="occlusion", done=6, total=12, acc=0.25)
    (row,), _ = index.refresh()
    assert row.progress.fraction == 0.5 and row.progress.metrics["acc"] == 0.25
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.update(pid=dead.pid)
    (row,), _ = index.refresh()
    assert row.status == "interrupted"


def test_formatting():
    assert format_duration(None) == "" and format_duration(59.6) == "1m00s" and format_duration(7322) == "2h02m"
    assert headline_of({"shuffle/vit/acc@8x8": 0.123456}, "shuffle", ["vit"]) == "acc@8x8 0.1235"
    assert headline_of({"train/acc": 1}, "quickstart", ["m"]) == "train/acc 1"
    assert headline_of({}) == ""


def test_launch_arguments_match_the_cli():
    request = LaunchRequest(
        kind="occlusion", models=["vit_test", "r:final"], dataset="shapes", limit=16, options=["drop=random"]
    )
    args = request.arguments("runs", "runs/x")
    assert args[:2] == ["eval", "occlusion"]
    assert args[args.index("--limit") + 1] == "16" and args[args.index("--out") + 1] == "runs/x"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--model"] == ["vit_test", "r:final"]
    assert args[-2:] == ["--set", "drop=random"]
    recipe = LaunchRequest(kind="recipe", recipe="quickstart").arguments("runs", "runs/y")
    assert recipe[:3] == ["recipe", "run", "quickstart"]


def test_failed_launch_leaves_its_error_line(tmp_path):
    script = "import sys; print('loading'); print('error: unknown model \\'nope\\'', file=sys.stderr); sys.exit(2)"
    launcher = Launcher(tmp_path, program=[sys.executable, "-c", script])
    launch = launcher.start(LaunchRequest(kind="occlusion", models=["nope"]))
    assert launch.log_path.parent == tmp_path / ".logs"
    launch.process.wait(timeout=20)
    ((ended, code, line),) = launcher.finished()
    assert code == 2 and line == "error: unknown model 'nope'"
    assert last_line(tmp_path / "missing.log") == ""


def test_option_checks_use_the_cli_parser():
    options = [
        Option("levels", "list[float]", [0.1]),
        Option("drop", "str", "random"),
        Option("patch", "int | None", None),
        Option("eps", "float", 0.1),
        Option("flag", "bool", False),
    ]
    assert form_rules.check_options(options, ["levels=0.1,0.5", "patch=none", "eps=8/255", "flag=yes"]) == []
    errors = form_rules.check_options(options, ["eps=lots", "dorp=x", "flag"])
    assert errors[0] == "eps: expected a number, got 'lots'"
    assert errors[1].startswith("unknown key 'dorp' (did you mean drop?)")
    assert errors[2] == "option 'flag' is not key=value"
    # same message as the CLI's parser on a real dataclass
    import dataclasses

    @dataclasses.dataclass
    class Real:
        eps: float = 0.1

    with pytest.raises(config_lib.ConfigError, match="eps: expected a number, got 'lots'"):
        config_lib.parse_value(Real, "eps", "lots")


def test_model_checks(tmp_path):
    registry = ["vit_test", "resnet_test"]
    assert form_rules.check_model("vit_test", registry) is None
    assert "did you mean vit_test" in form_rules.check_model("vit_tset", registry)
    assert form_rules.check_model(str(tmp_path / "m.keras"), registry).endswith("does not exist")
    run_dir = tmp_path / "runs" / "20240101-000000-train-abc"
    (run_dir / "models").mkdir(parents=True)
    (run_dir / "models" / "final.keras").write_bytes(b"")
    assert form_rules.check_model(f"{run_dir}:final", registry) is None
    assert "models: final" in form_rules.check_model(f"{run_dir}:other", registry)
    assert catalog.run_models(tmp_path / "runs") == [f"{run_dir}:final"]


def test_int_fields():
    assert form_rules.parse_int("", "limit") == (None, None)
    assert form_rules.parse_int("16", "limit", minimum=1) == (16, None)
    assert form_rules.parse_int("x", "limit")[1] == "limit: expected an integer, got 'x'"
    assert form_rules.parse_int("0", "limit", minimum=1)[1] == "limit: must be at least 1, got 0"


def test_kinds_put_the_paper_experiments_first_and_end_with_recipes():
    values = [value for _, value in catalog.kinds()]
    assert values[:6] == list(catalog.MAIN_KINDS) and values[-1] == "recipe"
    assert (
        catalog._header("# Quickstart: train a tiny ViT (2 min)\n[train]\n") == "Quickstart: train a tiny ViT (2 min)"
    )
    assert all(isinstance(name, str) for name, _ in catalog.recipes())
