{{ config(role='log') }}
{%- set log_path = var('feedback_file').value %}
{%- set several_files = '*' in log_path or '?' in log_path or '[' in log_path %}
-- Every record of the feedback log, one row each, stored in log order (ordinal = record number in
-- the whole log; position = record number in its file, from 1; source_file = the file, when
-- feedback_file is a glob of several, read in name order).
-- The log may be a JSON array or JSON lines, gzip-compressed or not (macros/inputs.sql).
-- Fields are read as JSON so that no dirty value can fail the read; the record rules (README, The
-- models) are applied here: texts stripped, rating parsed, feedback_id set, and `reason` (NULL = valid) said.
-- The records are read once, in one pass that keeps their order; what needs the whole log (which
-- records repeat an earlier one; where each file starts) is settled afterwards by the post hooks
-- below, which read only narrow columns of the stored table.
with raw as (
    select *
    from read_json(
        {{ source('feedback') }},
        format = {{ json_format(log_path) }},
        records = true,
        filename = true,
        maximum_object_size = {{ largest_record() }},
        columns = {
            id: 'JSON', timestamp: 'JSON', session_id: 'JSON', model_name: 'JSON',
            user_input: 'JSON', model_response: 'JSON', rating: 'JSON',
            temperature: 'JSON', top_p: 'JSON', top_k: 'JSON', max_tokens: 'JSON', comment: 'JSON'
        }
    ) with ordinality as log(id, timestamp, session_id, model_name, user_input, model_response,
                             rating, temperature, top_p, top_k, max_tokens, comment, source_file,
                             ordinal)
),

fields as (
    -- Each JSON value decoded once: texts as text (NULL when not text), labels as text.
    select
        ordinal,
        source_file,
        {{ json_label('id') }} as id,
        {{ json_label('session_id') }} as session_id,
        {{ json_label('timestamp') }} as timestamp,
        {{ json_label('model_name') }} as model_name,
        {{ json_string('user_input') }} as user_input,
        {{ json_string('model_response') }} as model_response,
        user_input as user_input_json,
        model_response as model_response_json,
        rating,
        temperature, top_p, top_k, max_tokens,
        {{ json_label('comment') }} as comment
    from raw
),

parsed as (
    select
        ordinal,
        source_file,
        nullif({{ strip_text('id') }}, '') as source_id,
        coalesce({{ strip_text('session_id') }}, '') as session_id,
        coalesce({{ strip_text('timestamp') }}, '') as timestamp,
        coalesce(nullif({{ strip_text('model_name') }}, ''), 'unknown') as model_name,
        {{ strip_text('user_input') }} as user_input,
        {{ strip_text('model_response') }} as model_response,
        {{ parse_rating('rating') }} as rating,
        rating::VARCHAR as rating_json,
        user_input_json,
        model_response_json,
        -- (json_label: a number's JSON text as it is, without parsing the JSON)
        try_cast({{ json_label('temperature') }} as DOUBLE) as temperature,
        try_cast({{ json_label('top_p') }} as DOUBLE) as top_p,
        try_cast({{ json_label('top_k') }} as BIGINT) as top_k,
        try_cast({{ json_label('max_tokens') }} as BIGINT) as max_tokens,
        comment
    from fields
)

select
    ordinal as position,  -- of one file; with several, made per file by the first post hook
    source_file,
    -- The record's own id; else a stable id from its content, the same on every run.
    -- (CASE, not coalesce: only records without an id pay for the md5.)
    case when source_id is null then {{ content_id() }} else source_id end as feedback_id,
    session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment,
    case
        when rating is null then 'invalid_rating'
        when coalesce(user_input, '') = '' then 'empty_user_input'
        when coalesce(model_response, '') = '' then 'empty_model_response'
    end as reason,  -- and 'duplicate', set by the last post hook
    case
        when rating is null then
            coalesce('rating ' || rating_json || ' is not an integer from 1 to 5', 'rating is missing or null')
        when coalesce(user_input, '') = '' then
            'user_input is ' || if(user_input is not null, 'blank', {{ json_kind('user_input_json') }})
        when coalesce(model_response, '') = '' then
            'model_response is ' || if(model_response is not null, 'blank', {{ json_kind('model_response_json') }})
    end as detail,
    rating_json,
    ordinal
from parsed

{#- The post hooks: UPDATEs of the stored table, each a narrow aggregate joined back (a window over
    the rows would sort all their texts, which DuckDB cannot spill within memory_limit at 10M). -#}
{%- set hooks = [] %}
{%- if several_files %}
{%- set per_file_positions %}
update {{ this }} as f
set position = f.ordinal - file_start.first_ordinal + 1
from (select source_file, min(ordinal) as first_ordinal from {{ this }} group by source_file) as file_start
where f.source_file = file_start.source_file
{%- endset %}
{%- set _ = hooks.append(per_file_positions) %}
{%- endif %}
{%- set mark_repeats %}
-- A valid record whose feedback_id an earlier record has (valid or not) is a duplicate.
update {{ this }} as f
set reason = 'duplicate',
    detail = 'repeats record ' || r.first_position || if(r.first_file = f.source_file, '', ' of ' || r.first_file)
             || if(f.feedback_id = {{ content_id('f') }}, ' (same content)', ' (same id)')
from (
    select
        feedback_id,
        min(ordinal) as first_ordinal,
        arg_min(position, ordinal) as first_position,
        arg_min(source_file, ordinal) as first_file
    from {{ this }}
    -- grouped by the ids' 64-bit hashes first: 10M of those fit in memory_limit, 10M ids do not
    where hash(feedback_id) in (select hash(feedback_id) from {{ this }} group by all having count(*) > 1)
    group by feedback_id
    having count(*) > 1
) as r
where f.feedback_id = r.feedback_id and f.ordinal > r.first_ordinal and f.reason is null
{%- endset %}
{%- set _ = hooks.append(mark_repeats) %}
{{ config(post_hook=hooks) }}
