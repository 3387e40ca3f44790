"""The build reads top to bottom: named steps, in the order the README gives, each usable alone."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import record

import engine
from engine import pipeline

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_lists_the_steps_in_the_order_the_code_runs_them():
    section = README.split("### How a build runs", 1)[1].split("###", 1)[0]
    listed = [name for name in re.findall(r"`(\w+)`", section) if hasattr(pipeline, name)]
    assert listed[:len(pipeline.STEPS)] == [step.__name__ for step in pipeline.STEPS]
    assert all(step.__doc__ and len(step.__doc__.strip().splitlines()) <= 2 for step in pipeline.STEPS)


def test_a_step_runs_alone_on_a_build_context(project):
    """compile_project and plan_files need no database: the plan of a split build, by themselves."""
    loaded = engine.load_project(project.root, [engine.GivenVar("val_ratio", 0.2, "--vars", is_text=False),
                                                engine.GivenVar("formats", ["kto"], "--vars", is_text=False)])
    b = pipeline.Build(loaded, "build", ["kto"], True, pipeline.quiet, pipeline.BuildResult("build", loaded.database))
    pipeline.compile_project(b)
    pipeline.plan_files(b)
    assert [e.path.name for e in b.plan.files] == ["kto_samples_train.jsonl", "kto_samples_val.jsonl"]


def test_a_new_step_is_a_function_and_one_line(project, monkeypatch):
    """A report written after the commit, from the context the steps share."""
    def write_report(b: pipeline.Build) -> None:
        "A line per file written, after the commit."
        report = b.project.target_dir / "report.txt"
        report.write_text("".join(f"{e.path.name} {e.rows}\n" for e in b.result.exports), encoding="utf-8")

    monkeypatch.setattr(pipeline, "STEPS", (*pipeline.STEPS, write_report))
    project.write_log([record(1), record(2, rating=1)])
    project.invoke("build", "--format", "jsonl", "kto")
    assert (project.root / "target/report.txt").read_text(encoding="utf-8") == (
        "high_quality_samples.jsonl 1\nkto_samples.jsonl 2\ndataset_info.json 1\nREADME.md 2\n")
