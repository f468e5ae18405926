"""The Python snippets of README.md and docs/python-api.md run as they are written.

Each document's ```python blocks run in order in one namespace (as a reader pastes them into
one notebook), in-process and in an empty folder; a ```toml block whose first line is
`# NAME.toml` is written to NAME.toml first, as the text asks the reader to. What changes is
only the size the snippets' own arguments set (SHRINK). A block preceded by
`<!-- no-test: why -->` is skipped; it must say why (a checkpoint in your Hugging Face cache,
your own folder, minutes of training).
"""

import re
from pathlib import Path

import vitlab

ROOT = Path(__file__).resolve().parents[1]
README, GUIDE = ROOT / "README.md", ROOT / "docs" / "python-api.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!--\s*no-test\b:?\s*(.*?)\s*-->\s*$")
SHRINK = {  # the snippets' own size arguments, made tiny: text in the docs -> what runs
    "limit=256": "limit=16",
    "limit = 256": "limit = 32",
    "eval_limit = 64": "eval_limit = 16",
    "limit = 64": "limit = 16",
}


def blocks(path):
    """[(language, code, line, why it is skipped or None)] of a Markdown file's fenced blocks."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        found.append(
            (match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1, skip.group(1) if skip else None)
        )
    return found


def shrink(code, used):
    for big, small in SHRINK.items():
        if big in code:
            used.add(big)
            code = code.replace(big, small)
    return code


def test_skipped_blocks_say_why_and_call_only_public_names():
    for path in (README, GUIDE):
        python = [b for b in blocks(path) if b[0] == "python"]
        assert python, path
        for _, code, line, why in python:
            assert why is None or len(why) > 10, f"{path.name}:{line}: <!-- no-test: ... --> must say why"
            compile(code, f"{path.name}:{line}", "exec")
            used = set(re.findall(r"\bvitlab\.(\w+)\b", code)) - {"data"}
            assert used <= set(vitlab.__all__), f"{path.name}:{line}: {used - set(vitlab.__all__)}"
    run = [b for b in blocks(GUIDE) if b[0] == "python" and b[3] is None]
    assert len(run) >= 5, "the guide's snippets are tested only where they run"


def test_block_parser_reads_languages_lines_and_skips(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text(
        "# t\n\n```python\na = 1\n```\n\n<!-- no-test: needs your own folder -->\n```python\nb\n```\n"
        "```toml\n# x.toml\nk = 1\n```\n"
    )
    assert blocks(doc) == [
        ("python", "a = 1\n", 3, None),
        ("python", "b\n", 8, "needs your own folder"),
        ("toml", "# x.toml\nk = 1\n", 11, None),
    ]


def test_the_guide_runs_as_written(tmp_path, monkeypatch, capsys):
    """docs/python-api.md top to bottom: evaluate (in memory and stored), models, train, runs, errors."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace, used = {"__name__": "__main__"}, set()
    for language, code, line, why in blocks(GUIDE):
        if why is not None:
            continue
        if language == "toml" and re.match(r"# ([\w.-]+\.toml)\n", code):
            (tmp_path / code.split("\n", 1)[0][2:]).write_text(shrink(code, used))
        elif language == "python":
            exec(compile(shrink(code, used), f"{GUIDE.name}:{line}", "exec"), namespace)  # noqa: S102
    assert used == set(SHRINK), f"SHRINK entries the guide no longer has: {set(SHRINK) - used}"
    out = capsys.readouterr().out
    result = namespace["result"]
    assert result.models == ["vit", "resnet"]  # zoo:ROLE results are keyed by the role
    assert out.startswith("Result occlusion on vit, resnet (in memory)") and len(str(result)) < 1500
    assert (tmp_path / "occlusion.png").stat().st_size > 10_000 and (tmp_path / "deit_tiny.keras").exists()
    assert [run.id for run in namespace["runs"]][1:] == [Path(namespace["stored"].run_path).name]
    assert namespace["run"].status == "done" and "final" in namespace["run"].models(load=False)
    metrics = {e["name"] for e in namespace["run"].events("metric") if e["step"] == "shuffle"}
    assert metrics == set(namespace["run"].result("shuffle").summary)
    assert "unknown key 'gridz'" in out and "no run.json" in out and "unknown dataset 'shapez'" in out
    assert list((tmp_path / "tables").glob("*.parquet"))
