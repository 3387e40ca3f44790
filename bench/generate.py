"""A realistic feedback log for benchmarks: seeded, shaped like the app's records, ~1.1 KB each.

    python bench/generate.py 1000000 bench/out/feedback_1000000.json [--seed 7]

The file is what the app writes (json.dump(records, indent=2, ensure_ascii=False)): Chinese and
English text with newlines, quotes and emoji, replies up to 1,500 characters, and a share (~6%) of
dirty records: bad ratings, blank texts, missing ids, wrong types, extra fields and duplicates.
Records are made in chunks, each seeded from (seed, chunk number), so the same arguments always
give the same bytes, and the chunks are made on every core.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import uuid
from multiprocessing import Pool
from pathlib import Path

CHUNK = 50_000

ZH = ["臣妾是甄嬛，大理寺少卿甄远道之女。", "宫中日子虽锦衣玉食，却步步惊心。", "皇上万福金安。",
      "这“倚梅园”的梅花开得正好，不如同去赏一赏？", "人心易变，唯有自保方能长久。", "嬛嬛一梦，终是空。",
      "本宫乏了，你们都退下吧。", "逆风如解意，容易莫摧残。", "臣妾做不到啊！", "这碗药，你喝还是不喝？",
      "凡事皆有代价，端看你愿不愿意付。", "（微微一笑）既如此，便依你所言。", "今日御花园里，海棠开了。",
      "妹妹这话说得好生奇怪，姐姐可听不懂。", "「宁可枝头抱香死，何曾吹落北风中。」", "小主，该用膳了。"]
EN = ["As the Emperor's consort, I must weigh every word I say.", "The palace is beautiful, yet full of danger.",
      "She said \"trust no one\", and she meant it.", "Here is a summary of the key points:",
      "1. Be patient.\n2. Be careful.\n3. Be kind when you can.", "I can't answer that, but I'll try my best.",
      "Plum blossoms bloom in the snow; so should we.", "Let me explain step by step.", "That's a great question!",
      "In short: no.", "Path: C:\\Users\\zhen\\notes.txt", "Use `json.dumps(x, ensure_ascii=False)` here."]
EMOJI = ["😊", "🌸", "👑", "🙏", "😂", "🐉", "❤️", "✨", "👍🏻", "🇨🇳"]
QUESTIONS = ["你好，你是谁？", "你在宫里过得好吗？", "你喜欢皇上吗？", "给我讲讲华妃。", "What is your name?",
             "Tell me about the Forbidden City.", "用一句话形容你自己", "Can you write a poem about plums?",
             "你怎么看待“后宫”？", "Summarize our chat.\nKeep it short.", "为什么？", "继续"]
MODELS = ["huanhuan-qwen", "huanhuan-qwen-7b-lora", "huanhuan-chatglm3", "huanhuan-baichuan2"]
SPACE = [" ", "\n", "\t", "\u3000", "\xa0", "  \n"]


def text(rng: random.Random, limit: int) -> str:
    """Sentences of Chinese and English, with the odd emoji, newline and quote, cut to limit characters."""
    parts: list[str] = []
    size = 0
    while size < limit:
        pool = ZH if rng.random() < 0.6 else EN
        part = rng.choice(pool)
        roll = rng.random()
        if roll < 0.08:
            part += rng.choice(EMOJI)
        elif roll < 0.16:
            part += "\n\n"
        elif roll < 0.20:
            part = f'"{part}"'
        parts.append(part)
        size += len(part)
    return "".join(parts)[:limit]


def record(rng: random.Random, n: int) -> dict:
    """The n-th record of the log (n from 0), clean as the app writes it."""
    session = 1721300000 + n // 20
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": f"2025-07-{18 + n // 8_000_000:02d}T{n // 360000 % 24:02d}:{n // 6000 % 60:02d}:"
                     f"{n // 100 % 60:02d}.{rng.randrange(1_000_000):06d}",
        "session_id": f"{session}.{rng.randrange(100):02d}",
        "model_name": rng.choice(MODELS),
        "user_input": text(rng, rng.randint(4, 80)),
        "model_response": text(rng, int(min(1500, rng.expovariate(1 / 455)) + 2)),
        "rating": rng.choices([1, 2, 3, 4, 5], weights=[5, 8, 17, 35, 35])[0],
        "temperature": rng.choice([0.7, 0.8, 1.0]),
        "top_p": 0.9,
        "top_k": 40,
        "max_tokens": rng.choice([512, 1024, 2048]),
    }


def dirty(rng: random.Random, r: dict, earlier: list[dict]) -> dict:
    """A record broken in one of the ways real logs are."""
    kind = rng.randrange(12)
    if kind == 0:
        r["rating"] = rng.choice([None, 0, 6, 4.5, "five", True, [5]])
    elif kind == 1:
        del r["rating"]
    elif kind == 2:
        r["rating"] = rng.choice(["5", "4", 5.0, " 4 ", "4.0"])
    elif kind == 3:
        r["user_input"] = rng.choice(["", "   ", "\n\t", None, 42])
    elif kind == 4:
        r["model_response"] = rng.choice(["", "\u3000\u3000", None, ["list"], {"text": "obj"}])
    elif kind == 5:
        del r["id"]
    elif kind == 6:
        r["user_input"] = rng.choice(SPACE) + r["user_input"] + rng.choice(SPACE)
        r["model_response"] = "\n" + r["model_response"] + rng.choice(SPACE)
    elif kind == 7:
        r["comment"] = text(rng, 40)
        r["client"] = {"app": "chat-webui", "version": "1.2.3"}
    elif kind == 8:
        del r["model_name"]
    elif kind == 9:
        r["top_k"], r["temperature"] = "40", None
    elif kind == 10 and earlier:
        return dict(rng.choice(earlier))  # the same record saved twice
    elif kind == 11 and earlier:
        copy = dict(rng.choice(earlier))  # an old record without an id, saved twice
        copy.pop("id", None)
        return copy
    return r


def chunk(args: tuple[int, int, int]) -> bytes:
    """Records start..stop of the log as the app's indented JSON, each line after the first indented."""
    seed, start, stop = args
    rng = random.Random(seed * 1_000_003 + start // CHUNK)
    made: list[dict] = []
    lines = []
    for n in range(start, stop):
        r = record(rng, n)
        if rng.random() < 0.06:
            r = dirty(rng, r, made[-500:])
        made.append(r)
        lines.append("  " + json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n  "))
    return ",\n".join(lines).encode("utf-8")


def generate(records: int, path: Path, seed: int = 7) -> Path:
    """Write the log to path (through a temporary file, so a cut run leaves no half log)."""
    jobs = [(seed, start, min(start + CHUNK, records)) for start in range(0, records, CHUNK)]
    return write_array(path, chunk, jobs, b"[\n", b",\n", b"\n]" if jobs else b"]")


def write_array(path: Path, make, jobs: list, opening: bytes, between: bytes, closing: bytes) -> Path:
    """A JSON array of the blocks make(job) returns, made on every core and written in the jobs'
    order, through a temporary file (a cut run leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out, Pool(os.cpu_count()) as pool:
        out.write(opening)
        for i, block in enumerate(pool.imap(make, jobs)):
            out.write((between if i else b"") + block)
        out.write(closing)
    os.replace(partial, path)
    return path


def main(make=generate, about: str = __doc__) -> None:
    """The command line of a log generator: RECORDS PATH [--seed N]."""
    parser = argparse.ArgumentParser(description=about.splitlines()[0])
    parser.add_argument("records", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    path = make(args.records, args.path, args.seed)
    print(f"{path}: {args.records} records, {path.stat().st_size / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
