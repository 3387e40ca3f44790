"""Which front-end wrote a log, told from its first record's keys: the app's log (user_input,
model_response, ...) or Open WebUI's feedback export (id, user_id, version, type, data, meta, snapshot,
...). Only the first record's top-level keys are read, so a log of any size is told at once."""

from __future__ import annotations

import codecs
import glob
from pathlib import Path

FORMATS = ("app", "openwebui")
OPENWEBUI_KEYS = frozenset({"type", "data", "meta"})  # every record of the export has them
APP_KEYS = frozenset({"user_input", "model_response"})


def log_format(path: Path) -> str:
    """'openwebui' when the log's first record has Open WebUI's keys, else 'app' (also for a log that
    is missing, empty or not JSON: the log checks say what is wrong with it). A glob is told by its
    first file in name order."""
    if not path.is_file():
        matches = sorted(glob.glob(str(path)))
        if not matches:
            return "app"
        path = Path(matches[0])
    try:
        keys = first_keys(path)
    except OSError:
        return "app"
    return "openwebui" if OPENWEBUI_KEYS <= keys and not APP_KEYS & keys else "app"


def first_keys(path: Path, chunk: int = 1 << 16) -> set[str]:
    """The top-level keys of the first record of a JSON array or JSON lines file, read until they
    decide the format or the record ends.

    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    >>> _ = f.write('[{"id": "1", "type": "rating", "data": {"rating": 1, "type": "x"}, "meta": {}}]')
    >>> f.close(); sorted(first_keys(Path(f.name))); os.unlink(f.name)
    ['data', 'id', 'meta', 'type']
    """
    keys: set[str] = set()
    depth, in_string, escaped, expect_key, key = 0, False, False, False, bytearray()
    started = False
    with path.open("rb") as f:
        data = f.read(chunk)
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        while data:
            for byte in data:
                if in_string:
                    if escaped:
                        escaped = False
                    elif byte == 0x5C:  # backslash
                        escaped = True
                    elif byte == 0x22:  # the closing quote
                        in_string = False
                        if expect_key:
                            keys.add(key.decode("utf-8", errors="replace"))
                            expect_key = False
                            if OPENWEBUI_KEYS <= keys or APP_KEYS & keys:
                                return keys
                    elif expect_key:
                        key.append(byte)
                elif byte == 0x22:
                    in_string, key = True, bytearray()
                elif byte in b"{[":
                    if not started and byte == ord("["):
                        continue  # the array around the records
                    started = True
                    depth += 1
                    expect_key = depth == 1 and byte == ord("{")
                elif byte in b"}]":
                    depth -= 1
                    if depth <= 0:
                        return keys
                elif byte == ord(",") and depth == 1:
                    expect_key = True
            data = f.read(chunk)
    return keys
