{{ config(materialized='table') }}
{%- set log_path = var('feedback_file').value %}
{%- set several_files = '*' in log_path or '?' in log_path or '[' in log_path %}
-- Every record of the feedback log, one row each (position = record number in its file, from 1;
-- source_file = the file, when feedback_file is a glob of several, read in name order; ordinal =
-- record number in the whole log). The rows are stored in no order: order by ordinal (or source_file,
-- position) when it matters; exports do (engine/export.py).
-- The log may be a JSON array or JSON lines, gzip-compressed or not (macros/inputs.sql).
-- Fields are read as JSON so that no dirty value can fail the read; the rules of DESIGN.md are
-- applied here: texts stripped, rating parsed, feedback_id set, and `reason` (NULL = valid) said.
with raw as (
    select *
    from read_json(
        {{ source('feedback') }},
        format = {{ json_format(log_path) }},
        records = true,
        filename = true,
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
        rating,
        {{ json_kind('user_input') }} as user_input_kind,
        {{ json_kind('model_response') }} as model_response_kind,
        temperature, top_p, top_k, max_tokens,
        {{ json_label('comment') }} as comment
    from raw
),

parsed as (
    select
        ordinal,
        source_file,
        {%- if several_files %}
        -- (a join with the per-file offsets below, not a window: a window would sort the wide rows)
        ordinal - file_start.first_ordinal + 1 as position,
        {%- else %}
        ordinal as position,
        {%- endif %}
        nullif({{ strip_text('id') }}, '') as source_id,
        coalesce({{ strip_text('session_id') }}, '') as session_id,
        coalesce({{ strip_text('timestamp') }}, '') as timestamp,
        coalesce(nullif({{ strip_text('model_name') }}, ''), 'unknown') as model_name,
        {{ strip_text('user_input') }} as user_input,
        {{ strip_text('model_response') }} as model_response,
        {{ parse_rating('rating') }} as rating,
        rating::VARCHAR as rating_json,
        user_input_kind,
        model_response_kind,
        try_cast(temperature ->> '$' as DOUBLE) as temperature,
        try_cast(top_p ->> '$' as DOUBLE) as top_p,
        try_cast(top_k ->> '$' as BIGINT) as top_k,
        try_cast(max_tokens ->> '$' as BIGINT) as max_tokens,
        comment
    from fields
    {%- if several_files %}
    join (select source_file, min(ordinal) as first_ordinal from fields group by source_file) as file_start
        using (source_file)
    {%- endif %}
),

identified as (
    select
        *,
        -- The record's own id; else a stable id from its content, the same on every run.
        -- (CASE, not coalesce: only records without an id pay for the md5.)
        case when source_id is null
             then md5(to_json([session_id, timestamp, model_name, user_input, model_response,
                               coalesce(rating::VARCHAR, rating_json)]))
             else source_id end as feedback_id
    from parsed
),

repeats as (
    -- The ids that occur more than once, with their first record: a narrow aggregate (hash
    -- aggregates spill well), joined back below. Windows over the rows would sort all their texts,
    -- which DuckDB cannot spill within memory_limit at 10M records.
    select
        feedback_id,
        min(ordinal) as first_ordinal,
        arg_min(position, ordinal) as first_position,
        arg_min(source_file, ordinal) as first_file
    from identified
    group by feedback_id
    having count(*) > 1
),

numbered as (
    select i.*, r.first_ordinal, r.first_position, r.first_file
    from identified as i
    left join repeats as r using (feedback_id)
)

select
    position, source_file, feedback_id, session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment,
    case
        when rating is null then 'invalid_rating'
        when coalesce(user_input, '') = '' then 'empty_user_input'
        when coalesce(model_response, '') = '' then 'empty_model_response'
        when first_ordinal < ordinal then 'duplicate'
    end as reason,
    case
        when rating is null then
            coalesce('rating ' || rating_json || ' is not an integer from 1 to 5', 'rating is missing or null')
        when coalesce(user_input, '') = '' then
            'user_input is ' || if(user_input_kind = 'text', 'blank', user_input_kind)
        when coalesce(model_response, '') = '' then
            'model_response is ' || if(model_response_kind = 'text', 'blank', model_response_kind)
        when first_ordinal < ordinal then
            'repeats record ' || first_position || if(first_file = source_file, '', ' of ' || first_file)
            || if(source_id is null, ' (same content)', ' (same id)')
    end as detail,
    rating_json,
    ordinal
from numbered
