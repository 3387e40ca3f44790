"""Parity of the spark target with duckdb on Open WebUI's feedback export (tests/openwebui.py): the
fixture export, with copies of its records in the odd shapes of tests/test_openwebui_shapes.py, built
on both targets with every format, every model compared row by row and every file byte for byte.
Skipped, saying why, where Java or pyspark is missing (as tests/test_spark.py)."""

from __future__ import annotations

import json

import pytest
from openwebui import dumps, export
from test_openwebui import looped
from test_openwebui_shapes import SHAPES
from test_spark import MISSING, assert_same, build_both

from exporters import FORMAT_NAMES

pytestmark = [pytest.mark.spark, pytest.mark.skipif(bool(MISSING), reason=f"spark target: {MISSING}")]

EXPORT = "logs/feedback-history-export-1733000000000.json"


def odd_export() -> list[dict]:
    """The fixture's export, then a copy of its first records each in one of the odd shapes (a
    message that is a string, childrenIds an object, the chat a list, the snapshot text), under an
    id and a chat of its own, so that DuckDB reads the export the JSON way (its typed read refuses
    such records) and Spark reads it as ever; then record 1 with its chat's parentIds in loops."""
    records = json.loads(dumps(export()))
    copies = json.loads(dumps(export()))[:len(SHAPES)]
    for change, _ in SHAPES.values():
        change(copies)
    for parent in ("a-a2b", "a-u3", "a-a3"):  # loops of parentIds (test_openwebui.py, looped)
        copies += looped(records, parent)[:1]
    for n, copy in enumerate(copies, 1):
        copy["id"] += f"-odd-{n}"
        copy["meta"]["chat_id"] = f"c-odd-{n}"
    return records + copies


@pytest.fixture(scope="module")
def export_builds(tmp_path_factory):
    """The odd export built on both targets with every format, once for the tests below."""
    tmp_path = tmp_path_factory.mktemp("openwebui")
    (tmp_path / "logs").mkdir()
    (tmp_path / EXPORT).write_text(dumps(odd_export()), encoding="utf-8")
    return build_both(tmp_path, EXPORT)


def test_an_open_webui_export_builds_the_same_on_spark(export_builds):
    assert_same(*export_builds)


def test_sibling_pairs_are_made_on_spark(export_builds):
    """Chat C's unrated regeneration is chosen over the 👎 first answer (chat A's regeneration is a
    rating pair already; the arena's two models are not paired with same_model_pairs)."""
    spark = export_builds[1]
    pairs = [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in spark.read_jsonl("dpo_pairs.jsonl")]
    assert ("墙角数枝梅，凌寒独自开。", "梅花很好看。") in pairs
    assert ("Use read_json('file.json'): it infers the columns.", "You cannot; convert it to CSV first.") in pairs


def test_the_chat_before_the_prompt_builds_the_same_on_spark(tmp_path):
    """with_history: every turn of the chain up to the prompt, unrated turns included (the openai
    formats, which mark earlier turns with weight 0, are not built on Spark with it)."""
    (tmp_path / "logs").mkdir()
    (tmp_path / EXPORT).write_text(dumps(odd_export()), encoding="utf-8")
    formats = [f for name in FORMAT_NAMES if "openai" not in name for f in ("--format", name)]
    duck, spark = build_both(tmp_path, EXPORT, "--var", "with_history=true", formats=formats)
    assert_same(duck, spark)
    chat_c = [s["conversations"] for s in spark.read_json("sharegpt_format_samples.json")
              if s["conversations"][-1]["value"] == "这是北宋王安石的《梅花》。"]
    assert [m["value"] for m in chat_c[0][:2]] == ["写一句关于梅花的诗。", "墙角数枝梅，凌寒独自开。"]
