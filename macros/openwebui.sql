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
    with read_limits.typed false and reads the whole log the way below (default__), with JSON
    paths and json_transform, which takes any shape (engine/pipeline.py, run_with_room): the same
    values either way, the second read only for such a log. The typed read is DuckDB's: on Spark
    the log's records come as macros/records.sql gives them (spark__, below). -#}
{% macro read_openwebui(source_name, fields) -%}
{{ adapter.dispatch('read_openwebui')(source_name, fields) }}
{%- endmacro %}

{% macro duckdb__read_openwebui(source_name, fields) -%}
{%- if read_limits.typed and log_format(source_name) == 'openwebui' -%}
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
{{ default__read_openwebui(source_name, fields) }}
{%- endif -%}
{%- endmacro %}

{% macro default__read_openwebui(source_name, fields) -%}
select
    * exclude (snapshot),
    snapshot -> '$.chat.title' as chat_title,
    snapshot -> '$.chat.chat.params' as params,
    json_transform(snapshot -> '$.chat.chat.history.messages',
                   {{ literal('"' ~ (snapshot_messages_type() | replace('"', '\\"')) ~ '"') }}) as messages
from (
    {{ log_records(source_name, 'openwebui', fields + ['snapshot']) | indent(4) }}
)
{%- endmacro %}

{#- On Spark each record's snapshot is its JSON text (macros/records.sql), parsed once into a VARIANT
    and cast to the parts fbt uses: the messages as the map of snapshot_messages_type(), each
    message's content a VARIANT turned back into its JSON text, as DuckDB's JSON (json_string tells
    a text from anything else). try_variant_get, as DuckDB's json_transform, makes NULL of a value
    of another shape (a message that is not an object, childrenIds that is not a list) and keeps
    the rest. -#}
{% macro spark__read_openwebui(source_name, fields) -%}
{%- set messages_type = 'MAP<STRING, STRUCT<parentId: STRING, childrenIds: ARRAY<STRING>, role: STRING, '
                        ~ 'content: VARIANT, model: STRING, selectedModelId: STRING>>' -%}
select
    * exclude (snapshot, messages),
    map_from_entries(transform(map_entries(messages), lambda m: struct(m.key, struct(
        m.value.parentId, m.value.childrenIds, m.value.role, to_json(m.value.content) as content,
        m.value.model, m.value.selectedModelId)))) as messages
from (
    select
        *,
        to_json(try_variant_get(snapshot, '$.chat.title')) as chat_title,
        to_json(try_variant_get(snapshot, '$.chat.chat.params')) as params,
        try_variant_get(snapshot, '$.chat.chat.history.messages', {{ messages_type | literal }}) as messages
    from (
        select * exclude (snapshot), try_parse_json(snapshot) as snapshot
        from (
            {{ log_records(source_name, 'openwebui', fields + ['snapshot']) | indent(12) }}
        )
    )
)
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

{#- The texts of a JSON list at a path (data.tags), each element as json_extract_string gives it;
    [] when there is no list there. -#}
{% macro json_texts(expr, path) -%}
{{ adapter.dispatch('json_texts')(expr, path) }}
{%- endmacro %}

{% macro default__json_texts(expr, path) -%}
json_extract_string({{ expr }}, {{ (path ~ '[*]') | literal }})
{%- endmacro %}

{% macro spark__json_texts(expr, path) -%}
(case when {{ expr }} is not null then coalesce(from_json({{ json_at(expr, path) }}, 'ARRAY<STRING>'), []) end)
{%- endmacro %}

{#- An epoch time in seconds as ISO 8601 UTC text: 2024-11-30T20:54:50Z. -#}
{% macro epoch_iso(seconds) -%}
{{ adapter.dispatch('epoch_iso')(seconds) }}
{%- endmacro %}

{% macro default__epoch_iso(seconds) -%}
strftime(make_timestamp({{ seconds }} * 1000000), '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

{#- (Counted from 1970-01-01 as a TIMESTAMP_NTZ: no session time zone comes into it.) -#}
{% macro spark__epoch_iso(seconds) -%}
date_format(timestampadd(SECOND, {{ seconds }}, TIMESTAMP_NTZ '1970-01-01 00:00:00'), 'yyyy-MM-dd''T''HH:mm:ss''Z''')
{%- endmacro %}

{#- with_history: each record's chat before its prompt (rows: stg_openwebui_feedback's mapped, with
    ordinal, messages and asked_id, the prompt's id), as (ordinal, turns): each assistant message
    of the chain from the chat's first message up to the prompt, with the user message it answers,
    oldest first, as {user, assistant, message_id}; no row when there are none. -#}
{% macro chat_before_prompt(rows) -%}
{{ adapter.dispatch('chat_before_prompt')(rows) }}
{%- endmacro %}

{#- The chain followed up by parentId with a recursive query, one row a message: as many steps as
    the chat has messages (a chain without a loop passes each message once), then cut where it
    comes back to a message it passed, to the prompt or to the rated reply (a loop of parentIds). -#}
{% macro default__chat_before_prompt(rows) -%}
with recursive up(ordinal, depth, id) as (
    select ordinal, 0, messages[asked_id]."parentId" from {{ rows }} where asked_id is not null
    union all
    select up.ordinal, up.depth + 1, m.messages[up.id]."parentId"
    from up join {{ rows }} as m using (ordinal)
    where up.id is not null and up.depth + 1 < cardinality(m.messages)
),

visits as (
    select ordinal, depth, id, row_number() over (partition by ordinal, id order by depth) as visit
    from up
    where id is not null
),

loops as (
    -- the depth where a chain comes back: it ends before it
    select v.ordinal, min(v.depth) as loop_depth
    from visits as v join {{ rows }} as m using (ordinal)
    where v.visit > 1 or v.id = m.asked_id or v.id = m.message_id
    group by v.ordinal
)

select
    up.ordinal,
    list({'user': {{ strip_text(json_string('m.messages[m.messages[up.id]."parentId"].content')) }},
          'assistant': {{ strip_text(json_string('m.messages[up.id].content')) }},
          'message_id': up.id} order by up.depth desc)
        filter (where m.messages[up.id].role = 'assistant'
                and m.messages[m.messages[up.id]."parentId"].role = 'user') as turns
from visits as up join {{ rows }} as m using (ordinal) left join loops using (ordinal)
where loops.loop_depth is null or up.depth < loops.loop_depth
group by up.ordinal
{%- endmacro %}

{#- Spark runs a recursive query a level a job, 100 levels at most: there the chain is walked
    within each row instead, one parentId a step, as many steps as the chat has messages, collecting
    the ids oldest first, and it stops where it comes back (as above). -#}
{% macro spark__chat_before_prompt(rows) -%}
select ordinal, turns
from (
    select
        ordinal,
        list_transform(
            list_filter(
                aggregate(sequence(1, cardinality(messages)),
                          {'id': messages[asked_id]."parentId", 'ids': []::VARCHAR[]},
                          lambda walk, step: if(walk.id is null or walk.id = asked_id or walk.id = message_id
                                                    or list_contains(walk.ids, walk.id),
                                                {'id': null::VARCHAR, 'ids': walk.ids},
                                                {'id': messages[walk.id]."parentId", 'ids': [walk.id] || walk.ids})).ids,
                lambda id: messages[id].role = 'assistant' and messages[messages[id]."parentId"].role = 'user'),
            lambda id: {'user': {{ strip_text(json_string('messages[messages[id]."parentId"].content')) }},
                        'assistant': {{ strip_text(json_string('messages[id].content')) }},
                        'message_id': id}) as turns
    from {{ rows }}
    where asked_id is not null
)
where cardinality(turns) > 0
{%- endmacro %}
