"""The log as Spark reads it (the spark target's form of macros/inputs.sql, read_log): every file of
a source, a JSON array or JSON lines, gzip-compressed or not, one Spark task per file; each record's
top-level values as the minified JSON texts DuckDB's read_json gives (a JSON null as no value), its
record number in the file, and its ordinal in the whole log, the files taken in name order.

Lay a large log out as many JSON-lines shards: a file is read whole by one task (README, Past one
machine)."""

from __future__ import annotations

import codecs
import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from .logcheck import Problem, json_lines, scan

if TYPE_CHECKING:
    import pyarrow
    from pyspark.sql import DataFrame, SparkSession

SCHEMA = "source_file STRING, position BIGINT, fields MAP<STRING, STRING>"


def arrow_schema() -> pyarrow.Schema:
    """SCHEMA in Arrow's terms."""
    import pyarrow

    return pyarrow.schema([("source_file", pyarrow.string()), ("position", pyarrow.int64()),
                           ("fields", pyarrow.map_(pyarrow.string(), pyarrow.string()))])


def json_text(value: Any) -> str:
    """A JSON value minified as DuckDB's JSON type writes it (a float's exponent without + or
    leading zeros).

    >>> json_text({"v": [1, 2.0, 1.5e-07, "é\\n"], "w": None, "x": True})
    '{"v":[1,2.0,1.5e-7,"é\\\\n"],"w":null,"x":true}'
    """
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return json.dumps(value)
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            sign = "-" if exponent.startswith("-") else ""
            text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
        return text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


UNREADABLE = "fbt cannot read the log "  # what a worker raises for a file (the driver says why: describe)


def file_records(path: str, data: bytes) -> list[dict]:
    """The records of a file's bytes, or a ValueError naming the file when fbt's scan of it
    (engine/logcheck.py, what DuckDB's read_json refuses) finds a fault: a JSON array's elements, or
    one per non-blank line, read as logcheck.diagnose reads them.

    >>> file_records("a.jsonl", b'{"a": 1}\\n\\n{"a": 2.0}\\n')
    [{'a': 1}, {'a': 2.0}]
    >>> file_records("a.json", b'[{"a": 1}, {"a": 1, "a": 2}]')
    Traceback (most recent call last):
    ValueError: fbt cannot read the log a.json
    """
    if path.lower().endswith(".gz"):
        data = gzip.decompress(data)
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="surrogateescape")
    lines = json_lines(Path(path)) or not path.lower().removesuffix(".gz").endswith(".json") \
        and not text.lstrip(" \t\r\n").startswith("[")
    try:
        scan(text, lines)
    except (Problem, RecursionError):
        raise ValueError(UNREADABLE + path) from None
    if not lines:
        return json.loads(text)
    return [json.loads(line) for line in text.split("\n") if line.strip(" \t\r")]


def parse_files(batches: Iterator[pyarrow.RecordBatch]) -> Iterator[pyarrow.RecordBatch]:
    """The records of the files of each batch (path, content: its bytes) as batches of
    source_file, position, fields ({key: JSON text}); run on the executors, through Arrow (no RDD,
    so Spark Connect runs it too)."""
    import pyarrow

    for batch in batches:
        files = zip(batch.column("path").to_pylist(), batch.column("content").to_pylist(), strict=True)
        for uri, data in files:
            path = unquote(urlparse(uri).path)
            rows: dict[str, list] = {"source_file": [], "position": [], "fields": []}
            for position, record in enumerate(file_records(path, data), 1):
                rows["source_file"].append(path)
                rows["position"].append(position)
                rows["fields"].append([(k, json_text(v)) for k, v in record.items() if v is not None])
            yield pyarrow.RecordBatch.from_pydict(rows, schema=arrow_schema())


def read_log(spark: SparkSession, files: list[Path]) -> DataFrame:
    """The records of files, in their order, with source_file, position and ordinal."""
    from pyspark.sql import functions as F

    contents = spark.read.format("binaryFile").load([str(f) for f in files]).select("path", "content")
    records = contents.mapInArrow(parse_files, SCHEMA).localCheckpoint()
    counts = dict(records.groupBy("source_file").count().collect())
    offsets, start = {}, 0
    for f in files:
        offsets[str(f)] = start
        start += counts.get(str(f), 0)
    offset = F.create_map(*[F.lit(x) for k, v in offsets.items() for x in (k, v)])
    return records.select("source_file", "position", "fields",
                          (offset[F.col("source_file")] + F.col("position")).alias("ordinal"))
