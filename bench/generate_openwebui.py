"""A realistic Open WebUI feedback export for benchmarks: seeded, shaped like Admin > Evaluations >
Feedback > Export writes it (tests/openwebui.py says which of Open WebUI's source this follows).

    python bench/generate_openwebui.py 100000 bench/out/openwebui_100000.json [--seed 7]

One line of JSON (JSON.stringify's form), records newest first. Chats of 1-6 turns in Chinese and
English (the texts of bench/generate.py: replies up to 1,500 characters); ~15% of answers
regenerated (a sibling), ~10% of chats in the arena (two models side by side); each rating carries a
snapshot of its chat as it stood when rated (history.messages and the current branch, as Open WebUI
stores both), a 1-10 score on ~60% of them, thumbs only on the rest, "1" as a string now and then.
~3% are dirty: no snapshot, a message missing from it, an empty reply, another type, no rating.
Made in chunks seeded from (seed, chunk number), on every core: the same arguments give the same bytes.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

from generate import MODELS, QUESTIONS, text, write_array

CHUNK = 20_000
BASE = 1_733_000_000


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def answer(rng: random.Random, mid: str, parent: str, model: str, ts: int, arena: bool) -> dict:
    m = {"id": mid, "parentId": parent, "childrenIds": [], "role": "assistant",
         "content": text(rng, int(min(1500, rng.expovariate(1 / 455)) + 2)),
         "model": "arena-model" if arena else model, "modelName": model, "modelIdx": 0,
         "userContext": None, "timestamp": ts, "done": True,
         "usage": {"prompt_tokens": rng.randrange(20, 2000), "completion_tokens": rng.randrange(5, 900)}}
    if arena:
        m.update(selectedModelId=model, arena=True)
    return m


def conversation(rng: random.Random, ts: int) -> tuple[dict, list[list[dict]], bool]:
    """A chat: its messages by id, the answers of each turn (siblings together), and whether it is
    an arena chat."""
    arena = rng.random() < 0.10
    messages: dict[str, dict] = {}
    turns: list[list[dict]] = []
    parent = None
    for _ in range(rng.randint(1, 6)):
        u = {"id": uid(rng), "parentId": parent, "childrenIds": [], "role": "user",
             "content": rng.choice(QUESTIONS) if rng.random() < 0.5 else text(rng, rng.randint(4, 80)),
             "timestamp": ts, "models": [rng.choice(MODELS)]}
        messages[u["id"]] = u
        if parent:
            messages[parent]["childrenIds"].append(u["id"])
        models = rng.sample(MODELS, 2) if arena else [u["models"][0]] * (2 if rng.random() < 0.15 else 1)
        answers = [answer(rng, uid(rng), u["id"], model, ts + 1, arena) for model in models]
        for a in answers:
            messages[a["id"]] = a
            u["childrenIds"].append(a["id"])
        turns.append(answers)
        parent = answers[-1]["id"]
        ts += 30
    return messages, turns, arena


def snapshot(chat_id: str, messages: dict, upto: set[str], current: str, ts: int) -> dict:
    """getChatById's answer when a rating is given: the chat as saved up to that turn."""
    shown = {k: v for k, v in messages.items() if k in upto}
    branch, at = [], shown.get(current)
    while at:
        branch.insert(0, at)
        at = shown.get(at["parentId"])
    title = messages[next(iter(messages))]["content"][:40]
    return {"chat": {"id": chat_id, "user_id": "u-1", "title": title,
                     "chat": {"id": "", "title": title, "models": [], "params": {},
                              "history": {"messages": shown, "currentId": current}, "messages": branch,
                              "tags": [], "timestamp": ts * 1000, "files": []},
                     "updated_at": ts, "created_at": ts, "share_id": None, "archived": False,
                     "pinned": False, "meta": {}, "folder_id": None}}


def ratings(rng: random.Random, n: int, ts: int) -> list[dict]:
    """The feedback records of one chat."""
    chat_id = uid(rng)
    messages, turns, arena = conversation(rng, ts)
    records, seen = [], set()
    for answers in turns:
        seen.update(a["parentId"] for a in answers)
        seen.update(a["id"] for a in answers)
        for a in answers:
            if rng.random() > 0.55 and records:
                continue
            up = rng.random() < 0.7
            score = rng.randint(6, 10) if up else rng.randint(1, 5)
            data = {"rating": (1 if up else -1) if rng.random() > 0.05 else ("1" if up else "-1"),
                    "model_id": a.get("selectedModelId", a["model"]),
                    "sibling_model_ids": [b.get("selectedModelId", b["model"]) for b in answers if b is not a]
                    or None, "reason": rng.choice(["", "accurate_information", "not_helpful", "other"]),
                    "comment": text(rng, rng.randint(0, 60)) if rng.random() < 0.2 else "",
                    "tags": [rng.choice(["history", "诗词", "code"])] if rng.random() < 0.3 else []}
            if rng.random() < 0.6:
                data["details"] = {"rating": score}
            record = {"id": uid(rng), "user_id": "u-1", "version": 0, "type": "rating", "data": data,
                      "meta": {"arena": arena, "model_id": a["model"], "message_id": a["id"],
                               "message_index": len(seen), "chat_id": chat_id,
                               "base_models": {data["model_id"]: None}},
                      "snapshot": snapshot(chat_id, messages, set(seen), a["id"], ts),
                      "created_at": ts, "updated_at": ts}
            records.append(dirty(rng, record) if rng.random() < 0.03 else record)
    return records


def dirty(rng: random.Random, r: dict) -> dict:
    """A record broken in one of the ways real exports are."""
    kind = rng.randrange(5)
    if kind == 0:
        r["snapshot"] = None
    elif kind == 1:
        r["meta"]["message_id"] = uid(rng)
    elif kind == 2:  # (the messages are shared by the chat's records: this one gets its own copy)
        history = r["snapshot"]["chat"]["chat"]["history"]
        history["messages"] = dict(history["messages"])
        mid = r["meta"]["message_id"]
        history["messages"][mid] = {**history["messages"][mid], "content": ""}
    elif kind == 3:
        r["type"] = "comment"
    else:
        r["data"]["rating"] = 0
        r["data"].pop("details", None)
    return r


def chunk(args: tuple[int, int, int]) -> bytes:
    """Records start..stop of the export, compact JSON, without the enclosing brackets."""
    seed, start, stop = args
    rng = random.Random(seed * 1_000_003 + start // CHUNK)
    made: list[dict] = []
    while len(made) < stop - start:
        made.extend(ratings(rng, start + len(made), BASE + (start + len(made)) * 10))
    made = made[:stop - start]
    made.reverse()  # newest first, as Open WebUI exports
    return ",".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in made).encode("utf-8")


def generate(records: int, path: Path, seed: int = 7) -> Path:
    """Write the export to path, newest chunk first (through a temporary file, so a cut run leaves
    no half file)."""
    jobs = [(seed, start, min(start + CHUNK, records)) for start in range(0, records, CHUNK)]
    return write_array(path, chunk, list(reversed(jobs)), b"[", b",", b"]")


if __name__ == "__main__":
    from generate import main

    main(generate, __doc__)
