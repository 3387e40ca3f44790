"""Random logs against the build: the accounting identity holds, and the training set is exactly the
records the README's record rules select, each one the log's record unchanged except for stripping."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MISSING = object()
SPACES = [chr(c) for c in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, *range(8192, 8203),
                           8232, 8233, 8239, 8287, 12288)]  # what Python's str.isspace() accepts

words = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
padded = st.builds(lambda a, w, b: a + w + b, st.text(st.sampled_from(SPACES), max_size=2), words,
                   st.text(st.sampled_from(SPACES), max_size=2))
texts = st.one_of(st.sampled_from(["问", " 问 ", "答", "", "  "]), st.sampled_from(["问", "答"]), padded)
good_ratings = st.sampled_from([5, 4, "5", " 4 ", 5.0, 2])
ratings = st.one_of(
    good_ratings, good_ratings, good_ratings,
    st.sampled_from([MISSING, None, True, False, [5], {"v": 5}, "five", "", "5.0", "4.", "+3", "1e0", "٣",
                     4.5, 1.0]),
    st.integers(-2, 7), st.floats(-1, 7, allow_nan=False))


def mostly(good, *bad):
    """Good values three times in four, so that valid records (and their repeats) are common."""
    return st.one_of(good, good, good, st.sampled_from([MISSING, *bad]))


records = st.fixed_dictionaries({
    "id": st.one_of(st.sampled_from([MISSING, None, "a", " a", "b", "", "c"]), st.integers(0, 3)),
    "session_id": st.sampled_from([MISSING, "1.5", "2.5"]),
    "timestamp": st.sampled_from([MISSING, "2025-01-01T00:00:00", " t "]),
    "model_name": st.sampled_from([MISSING, None, "m", " m ", "n", "", "🙂", 'x"y']),
    "user_input": mostly(texts, None, 1),
    "model_response": mostly(texts, None, []),
    "rating": ratings,
}, optional={"extra": st.integers()}).map(lambda r: {k: v for k, v in r.items() if v is not MISSING})


def strip(value) -> str | None:
    return value.strip() if isinstance(value, str) else None


def label(value) -> str | None:
    """id, model_name, timestamp as DuckDB reads them: strings stripped, numbers as JSON text."""
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else json.dumps(value)


def rating_of(value) -> int | None:
    if isinstance(value, str) and re.fullmatch(r"[+]?[0-9]+(\.[0-9]*)?", value.strip()):
        value = float(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (1, 2, 3, 4, 5):
        return int(value)
    return None


def expected(log: list[dict], min_rating: int, model: str) -> tuple[list[int], int, int, int]:
    """(positions of the training set, rejected, below_min_rating, other_model) by the README's record rules."""
    seen: set = set()
    samples, rejected, below, other = [], 0, 0, 0
    for position, r in enumerate(log, 1):
        rating, q, a = rating_of(r.get("rating")), strip(r.get("user_input")), strip(r.get("model_response"))
        name = label(r.get("model_name")) or "unknown"
        key = label(r.get("id")) or json.dumps(
            [label(r.get("session_id")) or "", label(r.get("timestamp")) or "", name, q, a,
             rating if rating is not None else json.dumps(r.get("rating"), separators=(",", ":"))],
            ensure_ascii=False)
        repeated, _ = key in seen, seen.add(key)
        if rating is None or not q or not a or repeated:
            rejected += 1
        elif rating < min_rating:
            below += 1
        elif model and name != model:
            other += 1
        else:
            samples.append(position)
    return samples, rejected, below, other


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=st.lists(records, max_size=25), min_rating=st.integers(1, 5),
       model=st.sampled_from(["", "m", "🙂"]))
def test_random_logs_keep_the_accounting_and_export_records_unchanged(project, log, min_rating, model):
    project.write_log(log)  # each example a log of its own, not a continuation: --allow-shrink
    project.invoke("build", "-q", "--allow-shrink", "--min-rating", str(min_rating), "--model-name", model)
    a = json.loads((project.root / "target" / "run_results.json").read_text())["accounting"]
    assert a["read"] == len(log) == a["rejected"] + a["valid"]
    assert a["valid"] == a["samples"] + a["excluded_by"]["below_min_rating"] + a["excluded_by"]["other_model"]

    positions, rejected, below, other = expected(log, min_rating, model)
    assert (a["rejected"], a["excluded_by"]["below_min_rating"], a["excluded_by"]["other_model"]) == (
        rejected, below, other)
    name = f"{model}_samples.jsonl" if model else "high_quality_samples.jsonl"
    samples = project.read_jsonl(name)
    assert len(samples) == len(positions)
    for sample, position in zip(samples, positions):
        r = log[position - 1]
        assert sample["instruction"] == r["user_input"].strip()
        assert sample["output"] == r["model_response"].strip()
        assert sample["rating"] == rating_of(r["rating"])
        assert sample["model_name"] == (label(r.get("model_name")) or "unknown")
        assert sample["timestamp"] == (label(r.get("timestamp")) or "")
