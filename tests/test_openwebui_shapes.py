"""The export's snapshot is read typed, parsed once (macros/openwebui.sql); a log with a record of
another shape is read again as JSON, with the same results as ever (the values below are those of
the JSON path, which every build took before the typed read)."""

from __future__ import annotations

import json

import pytest
from openwebui import dumps, export

EXPORT = "data/feedback-history-export-1733000000000.json"
ROWS = "select position, feedback_id, reason, detail, user_input, model_response, rating, siblings from feedback_log"


def build(project, records: list[dict]) -> tuple[list[tuple], str]:
    """Build records; the rows of feedback_log in log order, and how the snapshot was read."""
    project.write(EXPORT, dumps(records))
    project.invoke("build", "-q", "--feedback-file", EXPORT)
    view = project.query("select sql from duckdb_views() where view_name = 'stg_openwebui_feedback'")[0][0]
    read = "typed" if "STRUCT(chat STRUCT(title JSON" in view else "json" if "json_transform" in view else "?"
    return project.query(ROWS + " order by position"), read


def fresh() -> list[dict]:
    """The fixture's export, every record its own copy (the fixture's records share their chats)."""
    return json.loads(dumps(export()))


def messages(record: dict) -> dict:
    return record["snapshot"]["chat"]["chat"]["history"]["messages"]


def no_snapshot(row: tuple) -> tuple:
    """A record's row when its snapshot has no messages: rejected, no prompt, reply or siblings."""
    detail = "no snapshot.chat.chat.history.messages (an export from an Open WebUI without snapshots?)"
    return row[:2] + ("no_snapshot", detail, None, None, row[6], None)


# name: (what is done to the export, what that does to the rows of feedback_log, from today's JSON path)
SHAPES = {
    # a message that is not an object: no message refers to it
    "a message is a string": (lambda r: messages(r[0]).update(junk="not a message"), {}),
    # the prompt's childrenIds is not a list: record 2 has no siblings (NULL, as json_transform said)
    "childrenIds is an object": (lambda r: messages(r[1])["a-u2"].update(childrenIds={"a-a2": 1}),
                                 {1: lambda row: row[:7] + (None,)}),
    # the chat is not an object, or the snapshot is text: no messages, as for an export without snapshots
    "snapshot.chat.chat is a list": (lambda r: r[2]["snapshot"]["chat"].update(chat=[1, 2]), {2: no_snapshot}),
    "the snapshot is text": (lambda r: r[3].update(snapshot="a snapshot as text"), {3: no_snapshot}),
}


def test_a_clean_export_is_read_typed(project):
    rows, read = build(project, fresh())
    assert read == "typed"
    assert len(rows) == 14


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_record_of_another_shape_is_read_as_json_with_the_same_results(project, name):
    clean, _ = build(project, fresh())
    change, effect = SHAPES[name]
    records = fresh()
    change(records)
    rows, read = build(project, records)
    assert read == "json"
    expected = [effect.get(i, lambda row: row)(row) for i, row in enumerate(clean)]
    assert rows == expected


def test_a_record_that_is_not_an_object_stops_the_build_as_before(project):
    records = fresh()
    records.insert(2, 5)
    path = project.write(EXPORT, dumps(records))
    result = project.invoke("build", "-q", "--feedback-file", EXPORT, ok=False)
    assert result.exit_code == 1
    column = len(dumps(records[:2])[:-1]) + 2  # after "[record 1,record 2,"
    assert result.stderr == (f"Error: {path}: line 1, column {column} (record 3): record 3 is a number, not "
                             "an object {...}; fix the log and build again (an empty log is written as [])\n")
