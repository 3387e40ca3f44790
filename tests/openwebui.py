"""An Open WebUI feedback export, written from Open WebUI's own source (repository open-webui/open-webui):

- backend/open_webui/models/feedbacks.py (commit 033ac2ee): a record is FeedbackModel {id, user_id,
  version, type, data, meta, snapshot, created_at, updated_at}, times in epoch seconds; RatingData
  has rating: str | int (so "1" as well as 1), model_id, sibling_model_ids, reason, comment, and
  allows extra keys (tags, details).
- backend/open_webui/routers/evaluations.py (commit 41511450): GET /feedbacks/all/export returns
  list[FeedbackModel], snapshot included, newest first (order_by updated_at desc).
- src/lib/components/admin/Evaluations/Feedbacks.svelte, exportHandler: the browser saves
  JSON.stringify(feedbacks) (one line, not indented, UTF-8 unescaped) as
  feedback-history-export-<Date.now()>.json.
- src/lib/components/chat/Messages/ResponseMessage.svelte, feedbackHandler: data = the message's
  annotation {rating: 1 | -1, reason, comment, tags, details: {rating}} plus model_id (the arena's
  selectedModelId, else the message's model) and, when the parent user message has several
  children, sibling_model_ids; meta = {arena, model_id (the message's model: "arena-model" in the
  arena), message_id, message_index, chat_id, base_models}; snapshot = {chat: getChatById(...)},
  the chat as the server last saved it: {id, user_id, title, chat: {id, title, models, params,
  history: {messages: {id: message}, currentId}, messages: [the current branch], ...}, ...}.
- RateComment.svelte: the 1-10 score is optional (details.rating null when not picked); with 👍 only
  6-10 can be picked, with 👎 only 1-5.

Older versions (before 0.4) exported no snapshot and no details; the fixture has such records too.
"""

from __future__ import annotations

import json

BASE = 1_733_000_000  # created_at of the first record (2024-11-30T20:53:20Z)


def message(mid: str, parent: str | None, role: str, content: str, children=(), model: str = "",
            ts: int = BASE, **extra) -> dict:
    """A message of a chat's history, as Open WebUI stores it."""
    m = {"id": mid, "parentId": parent, "childrenIds": list(children), "role": role, "content": content,
         "timestamp": ts}
    if role == "user":
        m["models"] = [model or "llama3.1:8b"]
    else:
        m.update({"model": model, "modelName": model, "modelIdx": 0, "userContext": None, "done": True})
    m.update(extra)
    return m


def chat(cid: str, title: str, messages: list[dict], current: str, params: dict | None = None) -> dict:
    """What getChatById returns: the chat row, its JSON in chat.chat."""
    by_id = {m["id"]: m for m in messages}
    branch, at = [], by_id.get(current)
    while at:
        branch.insert(0, at)
        at = by_id.get(at["parentId"])
    return {"id": cid, "user_id": "u-1", "title": title,
            "chat": {"id": "", "title": title, "models": sorted({m.get("model") for m in messages
                                                                if m.get("model")}),
                     "params": params or {}, "history": {"messages": by_id, "currentId": current},
                     "messages": branch, "tags": [], "timestamp": BASE * 1000, "files": []},
            "updated_at": BASE, "created_at": BASE, "share_id": None, "archived": False,
            "pinned": False, "meta": {}, "folder_id": None}


def feedback(fid: str, at: int, snapshot: dict | None, message_id: str, model_id: str, rating, *,
             details=..., reason="", comment="", tags=(), siblings=(), arena=False,
             message_model: str = "", ftype: str = "rating", index: int = 2) -> dict:
    """One record of the export."""
    data = {"rating": rating, "model_id": model_id, "sibling_model_ids": list(siblings) or None,
            "reason": reason, "comment": comment, "tags": list(tags)}
    if details is not ...:
        data["details"] = {"rating": details}
    meta = {"arena": arena, "model_id": message_model or model_id, "message_id": message_id,
            "message_index": index, "chat_id": snapshot["id"] if snapshot else "c-old",
            "base_models": {model_id: None}}
    return {"id": fid, "user_id": "u-1", "version": 0, "type": ftype, "data": data, "meta": meta,
            "snapshot": {"chat": snapshot} if snapshot else None, "created_at": at, "updated_at": at}


# Chat A, English: three turns; the second answer was regenerated (a2 👎, a2b 👍 8/10).
CHAT_A = chat("c-a", "DuckDB questions", [
    message("a-u1", None, "user", "What is DuckDB?", ["a-a1"]),
    message("a-a1", "a-u1", "assistant", "DuckDB is an in-process analytical SQL database.", ["a-u2"],
            "llama3.1:8b", annotation={"rating": 1, "details": {"rating": 9}}),
    message("a-u2", "a-a1", "user", "How do I read a JSON file with it?", ["a-a2", "a-a2b"]),
    message("a-a2", "a-u2", "assistant", "You cannot; convert it to CSV first.", [], "llama3.1:8b",
            annotation={"rating": -1}),
    message("a-a2b", "a-u2", "assistant", "Use read_json('file.json'): it infers the columns.",
            ["a-u3"], "llama3.1:8b", annotation={"rating": 1, "details": {"rating": 8}}),
    message("a-u3", "a-a2b", "user", "And a Parquet file?", ["a-a3"]),
    message("a-a3", "a-u3", "assistant", "read_parquet('file.parquet'), or just select from the file.",
            [], "llama3.1:8b"),
], "a-a3", {"temperature": 0.7})

# Chat B, Chinese, the arena: two models answered side by side; the user liked qwen's (10/10).
CHAT_B = chat("c-b", "长城", [
    message("b-u1", None, "user", "用一句话介绍长城。", ["b-a1", "b-a2"], "arena-model"),
    message("b-a1", "b-u1", "assistant", "长城是中国古代修建的军事防御工程，绵延两万多公里。", [],
            "arena-model", selectedModelId="qwen2.5:7b", arena=True),
    message("b-a2", "b-u1", "assistant", "长城很长。", [], "arena-model", selectedModelId="gemma2:9b",
            arena=True),
], "b-a1")

# Chat C, Chinese, two turns: the first answer (👎 3/10) has an unrated regeneration; the second 👍 7/10.
CHAT_C = chat("c-c", "宫廷诗词", [
    message("c-u1", None, "user", "\u3000写一句关于梅花的诗。", ["c-a1", "c-a1b"]),
    message("c-a1", "c-u1", "assistant", "梅花很好看。", [], "qwen2.5:7b"),
    message("c-a1b", "c-u1", "assistant", "墙角数枝梅，凌寒独自开。", ["c-u2"], "qwen2.5:7b"),
    message("c-u2", "c-a1b", "user", "这是谁写的？", ["c-a2"]),
    message("c-a2", "c-u2", "assistant", "这是北宋王安石的《梅花》。\n", [], "qwen2.5:7b"),
], "c-a2")

# Chat D: a reply that failed (empty content) and a blank prompt.
CHAT_D = chat("c-d", "Errors", [
    message("d-u1", None, "user", "Summarise this file.", ["d-a1"]),
    message("d-a1", "d-u1", "assistant", "", [], "llama3.1:8b", error={"content": "timeout"}),
    message("d-u2", None, "user", "  \n", ["d-a2"]),
    message("d-a2", "d-u2", "assistant", "Could you say more?", [], "llama3.1:8b"),
], "d-a1")


def export() -> list[dict]:
    """The export, newest first as Open WebUI writes it (n = the record's place in the file)."""
    t = BASE
    return [
        # 1: 👍 thumbs only, the rating a string "1" (RatingData allows str): rated 4
        feedback("f-a3", t + 90, CHAT_A, "a-a3", "llama3.1:8b", "1", details=None, index=6),
        # 2: the regeneration 👍 8/10 -> 4; sibling of 3
        feedback("f-a2b", t + 80, CHAT_A, "a-a2b", "llama3.1:8b", 1, details=8, index=4,
                 siblings=["llama3.1:8b"], reason="accurate_information"),
        # 3: 👎 without a score (an older record: no details) -> 2; sibling of 2
        feedback("f-a2", t + 70, CHAT_A, "a-a2", "llama3.1:8b", -1, index=4, siblings=["llama3.1:8b"],
                 reason="not_factually_correct", comment="It can read JSON."),
        # 4: 👍 9/10 -> 5, first turn
        feedback("f-a1", t + 60, CHAT_A, "a-a1", "llama3.1:8b", 1, details=9, index=2,
                 tags=["databases"]),
        # 5: the arena, 👍 10/10 -> 5; meta.model_id is the arena's, data.model_id the real model
        feedback("f-b1", t + 50, CHAT_B, "b-a1", "qwen2.5:7b", 1, details=10, arena=True,
                 message_model="arena-model", siblings=["gemma2:9b"], reason="thorough_explanation",
                 comment="简洁准确", tags=["历史", "中国"], index=2),
        # 6: 👎 3/10 -> 2, with an unrated regeneration as its sibling
        feedback("f-c1", t + 40, CHAT_C, "c-a1", "qwen2.5:7b", -1, details=3, siblings=["qwen2.5:7b"],
                 reason="not_helpful", index=2),
        # 7: 👍 7/10 -> 4, the second turn (history: the regenerated first answer)
        feedback("f-c2", t + 30, CHAT_C, "c-a2", "qwen2.5:7b", 1, details=7, tags=["诗词"], index=4),
        # 8: rejected: an old export's record without a snapshot
        feedback("f-old", t + 20, None, "x-a1", "llama3.1:8b", 1),
        # 9: rejected: the rated message is not in the snapshot (rated before the chat was saved)
        feedback("f-miss", t + 19, CHAT_A, "a-a9", "llama3.1:8b", 1, details=None),
        # 10: rejected: the reply is empty (the model failed)
        feedback("f-empty-reply", t + 18, CHAT_D, "d-a1", "llama3.1:8b", -1, details=1),
        # 11: rejected: the prompt is blank
        feedback("f-empty-prompt", t + 17, CHAT_D, "d-a2", "llama3.1:8b", 1, details=None),
        # 12: rejected: not a rating record
        feedback("f-other", t + 16, CHAT_A, "a-a1", "llama3.1:8b", 1, ftype="comment"),
        # 13: rejected: no thumbs and no score
        feedback("f-norating", t + 15, CHAT_A, "a-a1", "llama3.1:8b", 0, details=None),
        # 14: rejected: a repeat of record 4's id
        feedback("f-a1", t + 14, CHAT_A, "a-a1", "llama3.1:8b", 1, details=9),
    ]


def dumps(records: list[dict]) -> str:
    """The export's bytes: JSON.stringify's compact form, UTF-8 not escaped."""
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))
