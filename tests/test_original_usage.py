"""Each line of the original script's usage, with `python cli.py build` in its place."""

from __future__ import annotations

import json

from conftest import record

FILES = ["high_quality_samples.json", "high_quality_samples.jsonl", "alpaca_format_samples.json"]


def original(records: list[dict], min_rating: int = 4, model_name: str | None = None) -> list[dict]:
    """What the original script selects from a clean log, in its order and shape."""
    out = []
    for r in records:
        if r["rating"] >= min_rating and (not model_name or r["model_name"] == model_name):
            q, a = r["user_input"].strip(), r["model_response"].strip()
            if q and a:
                out.append({"instruction": q, "input": "", "output": a, "rating": r["rating"],
                            "model_name": r["model_name"], "feedback_id": r["id"],
                            "timestamp": r["timestamp"]})
    return out


def clean_log() -> list[dict]:
    models = ["huanhuan-qwen", "huanhuan-qwen-7b-lora"]
    return [record(n, rating=n % 5 + 1, model_name=models[n % 2],
                   user_input=f"  第{n}问：你是谁？\n", model_response=f"臣妾是甄嬛 ({n})。\u3000")
            for n in range(1, 41)]


def test_defaults_write_three_files_like_the_original(project):
    log = clean_log()
    project.write_log(log)
    result = project.invoke("build")
    expected = original(log)
    assert project.read_json("high_quality_samples.json") == expected
    assert project.read_jsonl("high_quality_samples.jsonl") == expected
    assert project.read_json("alpaca_format_samples.json") == [
        {k: s[k] for k in ("instruction", "input", "output")} for s in expected]
    assert f"total samples: {len(expected)}" in result.stdout


def test_json_is_indented_utf8_like_json_dump_indent_2(project):
    log = clean_log()
    project.write_log(log)
    project.invoke("build")
    text = (project.out / "high_quality_samples.json").read_text(encoding="utf-8")
    assert text == json.dumps(original(log), ensure_ascii=False, indent=2) + "\n"
    assert "\\u" not in text and "甄嬛" in text


def test_min_rating_5(project):
    log = clean_log()
    project.write_log(log)
    project.invoke("build", "--min-rating", "5")
    assert project.read_json("high_quality_samples.json") == original(log, min_rating=5)


def test_output_dir(project, tmp_path):
    project.write_log(clean_log())
    project.invoke("build", "--output-dir", str(tmp_path / "my_training_data"))
    assert sorted(p.name for p in (tmp_path / "my_training_data").iterdir()) == sorted(FILES)


def test_format_jsonl_only(project):
    project.write_log(clean_log())
    project.invoke("build", "--format", "jsonl")
    assert [p.name for p in project.out.iterdir()] == ["high_quality_samples.jsonl"]


def test_min_rating_4_format_json_alpaca_output_dir(project, tmp_path):
    log = clean_log()
    project.write_log(log)
    out = tmp_path / "training_data_v2"
    project.invoke("build", "--min-rating", "4", "--format", "json", "alpaca", "--output-dir", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["alpaca_format_samples.json",
                                                      "high_quality_samples.json"]
    assert project.read_json("high_quality_samples.json", out) == original(log, 4)


def test_model_name_keeps_min_rating_and_names_files_after_the_model(project):
    log = clean_log()
    project.write_log(log)
    project.invoke("build", "--model-name", "huanhuan-qwen", "--min-rating", "5")
    expected = original(log, 5, "huanhuan-qwen")
    assert expected and all(s["rating"] == 5 for s in expected)
    assert project.read_json("huanhuan-qwen_samples.json") == expected
    assert project.read_jsonl("huanhuan-qwen_samples.jsonl") == expected
    assert len(project.read_json("huanhuan-qwen_alpaca_format.json")) == len(expected)


def test_feedback_file_flag(project, tmp_path):
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps([record(1)]), encoding="utf-8")
    project.invoke("build", "--feedback-file", str(other))
    assert len(project.read_json("high_quality_samples.json")) == 1


def test_dirty_log_does_not_crash_and_keeps_the_good_records(project):
    project.write_log([record(1), record(2, rating=None), record(3, rating="5"), record(4, rating="x")])
    result = project.invoke("build")
    assert [s["feedback_id"] for s in project.read_json("high_quality_samples.json")] == [
        record(1)["id"], record(3)["id"]]
    assert "rejected 2" in result.stdout


def test_empty_result_overwrites_stale_files_with_valid_empty_ones(project):
    project.write_log([record(1)])
    project.invoke("build")
    project.write_log([record(1, rating=2)])
    result = project.invoke("build")
    assert project.read_json("high_quality_samples.json") == []
    assert (project.out / "high_quality_samples.jsonl").read_text() == ""
    assert project.read_json("alpaca_format_samples.json") == []
    assert "no samples matched" in result.stdout
