"""The job in plain Python, as a user would write it without fbt: the benchmark's baseline.

    python bench/baseline.py LOG OUTPUT_DIR [--min-rating 4]

json.load the whole log, loop over the records applying the README's record rules (The models), json.dump the
three files. On a log the benchmark generates it writes the same bytes as `python cli.py build`
(the benchmark checks that), so the two are timed doing the same work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

NUMBER = re.compile(r"[+]?[0-9]+(\.[0-9]*)?")


def label(value) -> str | None:
    """An id, model name or timestamp: a string as it is, another value as its JSON text."""
    if value is None:
        return None
    return (value if isinstance(value, str) else json.dumps(value)).strip()


def rating_of(value) -> int | None:
    """An integer 1-5 ("5", 5.0 and " 5 " included), else None."""
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        value = float(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (1, 2, 3, 4, 5):
        return int(value)
    return None


def samples(records: list, min_rating: int, model_name: str) -> list[dict]:
    """The training samples, in log order."""
    seen: set[str] = set()
    out = []
    for r in records:
        prompt, reply = r.get("user_input"), r.get("model_response")
        prompt = prompt.strip() if isinstance(prompt, str) else ""
        reply = reply.strip() if isinstance(reply, str) else ""
        rating = rating_of(r.get("rating"))
        model = label(r.get("model_name")) or "unknown"
        timestamp = label(r.get("timestamp")) or ""
        feedback_id = label(r.get("id"))
        if not feedback_id:
            raw = r.get("rating")
            key = [label(r.get("session_id")) or "", timestamp, model, prompt if isinstance(
                r.get("user_input"), str) else None, reply if isinstance(r.get("model_response"), str)
                else None, str(rating) if rating else None if raw is None else json.dumps(raw)]
            feedback_id = hashlib.md5(json.dumps(key, ensure_ascii=False, separators=(",", ":"))
                                      .encode("utf-8")).hexdigest()
        repeated = feedback_id in seen
        seen.add(feedback_id)
        if rating is None or not prompt or not reply or repeated:
            continue
        if rating >= min_rating and (not model_name or model == model_name):
            out.append({"instruction": prompt, "input": "", "output": reply, "rating": rating,
                        "model_name": model, "feedback_id": feedback_id, "timestamp": timestamp})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--min-rating", type=int, default=4)
    parser.add_argument("--model-name", default="")
    args = parser.parse_args()
    with args.log.open(encoding="utf-8") as f:
        records = json.load(f)
    kept = samples(records, args.min_rating, args.model_name)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    with (args.output_dir / "high_quality_samples.json").open("w", encoding="utf-8") as f:
        json.dump(kept, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with (args.output_dir / "high_quality_samples.jsonl").open("w", encoding="utf-8") as f:
        for sample in kept:
            f.write(json.dumps(sample, ensure_ascii=False) + "\n")
    with (args.output_dir / "alpaca_format_samples.json").open("w", encoding="utf-8") as f:
        alpaca = [{k: s[k] for k in ("instruction", "input", "output")} for s in kept]
        json.dump(alpaca, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"{len(records)} records read, {len(kept)} samples written to {args.output_dir}")


if __name__ == "__main__":
    main()
