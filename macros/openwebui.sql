{#- Reading Open WebUI's feedback export fast (models/stg_openwebui_feedback.sql). -#}

{#- The messages of a chat's snapshot (snapshot.chat.chat.history.messages, a dict by message id) as
    a DuckDB MAP from id to the parts of a message fbt uses. content stays JSON: a reply that is not
    text is told apart from one that is (json_string). -#}
{% macro snapshot_messages_type() -%}
MAP(VARCHAR, STRUCT("parentId" VARCHAR, "childrenIds" VARCHAR[], role VARCHAR, content JSON, model VARCHAR, "selectedModelId" VARCHAR))
{%- endmacro %}

{#- The records of an export (read_log's columns), with the parts of the snapshot fbt uses in
    place of the snapshot: chat_title (JSON), params (JSON) and messages (snapshot_messages_type).
    The snapshot is ~90% of an export's bytes. Read as JSON, DuckDB would parse it in the read,
    write it back as text, parse that text again to take the messages out, write those as text
    and parse them a third time into the MAP. So read_json is given its type instead
    (STRUCT(chat STRUCT(title, chat STRUCT(params, history STRUCT(messages))))) and parses each
    snapshot once, straight into the MAP (measured on 100k records: the model in about half the
    time). Keys the type does not name are skipped; a missing snapshot or part is NULL, as before.
    A record of another shape (a message that is not an object, childrenIds that is not a list,
    a key twice ...) makes DuckDB refuse the typed read; the engine then renders the model again
    with read_limits.typed false and reads the whole log the way below, with JSON paths and
    json_transform, which takes any shape (engine/pipeline.py, run_with_room): the same values
    either way, the second read only for such a log. The typed read is DuckDB's: on another
    target the log's records come as macros/records.sql gives them, and are read the JSON way. -#}
{% macro read_openwebui(source_name, fields) -%}
{%- if read_limits.typed and target.type == 'duckdb' and log_format(source_name) == 'openwebui' -%}
{%- set snapshot_type = 'STRUCT(chat STRUCT(title JSON, chat STRUCT(params JSON, history STRUCT(messages '
                        ~ snapshot_messages_type() ~ '))))' -%}
select
    * exclude (snapshot),
    snapshot.chat.title as chat_title,
    snapshot.chat.chat.params as params,
    snapshot.chat.chat.history.messages as messages
from (
    {{ read_log(source_name, 'openwebui', fields + ['snapshot'], {'snapshot': snapshot_type}) | indent(4) }}
)
{%- else -%}
select
    * exclude (snapshot),
    snapshot -> '$.chat.title' as chat_title,
    snapshot -> '$.chat.chat.params' as params,
    json_transform(snapshot -> '$.chat.chat.history.messages',
                   {{ literal('"' ~ (snapshot_messages_type() | replace('"', '\\"')) ~ '"') }}) as messages
from (
    {{ log_records(source_name, 'openwebui', fields + ['snapshot']) | indent(4) }}
)
{%- endif -%}
{%- endmacro %}

{#- The answers to a user message of the snapshot (prompt: its message; messages: the snapshot's
    map), in the order of its childrenIds, the rated one (rated_id) among them: each as
    {message_id, role, model (the arena's selectedModelId, else the message's model, else
    'unknown'), content (its text, stripped; NULL when not text)}. The siblings are the others.
    Each child is looked up once: a look-up inside a lambda is dear (DuckDB hands the lambda the
    row's whole map for each child; six look-ups a child made the siblings the dearest step of
    the model after the read). Most prompts have one answer, the rated one:
    they have no siblings and need no look-up at all ([]; measured on 100k records of
    bench/generate_openwebui.py: the look-ups ~0.9 s of CPU, ~0.35 s with this). -#}
{% macro prompt_answers(messages, prompt, rated_id) -%}
case when {{ prompt }}."childrenIds" = [{{ rated_id }}] then []
     else list_transform(
         list_transform({{ prompt }}."childrenIds", lambda id: {'message_id': id, 'message': {{ messages }}[id]}),
         lambda a: {'message_id': a.message_id,
                    'role': a.message.role,
                    'model': coalesce(a.message."selectedModelId", a.message.model, 'unknown'),
                    'content': {{ strip_text(json_string('a.message.content')) }}}) end
{%- endmacro %}
