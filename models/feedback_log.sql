{{ config(materialized='table') }}
-- Every record of the feedback log, one row each, in log order (position = record number, from 1).
-- Fields are read as JSON so that no dirty value can fail the read; the rules of DESIGN.md are
-- applied here: texts stripped, rating parsed, feedback_id set, and `reason` (NULL = valid) said.
with raw as (
    select *
    from read_json(
        {{ source('feedback') }},
        format = 'array',
        records = true,
        columns = {
            id: 'JSON', timestamp: 'JSON', session_id: 'JSON', model_name: 'JSON',
            user_input: 'JSON', model_response: 'JSON', rating: 'JSON',
            temperature: 'JSON', top_p: 'JSON', top_k: 'JSON', max_tokens: 'JSON', comment: 'JSON'
        }
    ) with ordinality as log(id, timestamp, session_id, model_name, user_input, model_response,
                             rating, temperature, top_p, top_k, max_tokens, comment, position)
),

fields as (
    -- Each JSON value decoded once: texts as text (NULL when not text), labels as text.
    select
        position,
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
        position,
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

numbered as (
    select *, min(position) over (partition by feedback_id) as first_position
    from identified
)

select
    position, feedback_id, session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment,
    case
        when rating is null then 'invalid_rating'
        when coalesce(user_input, '') = '' then 'empty_user_input'
        when coalesce(model_response, '') = '' then 'empty_model_response'
        when first_position < position then 'duplicate'
    end as reason,
    case
        when rating is null then
            coalesce('rating ' || rating_json || ' is not an integer from 1 to 5', 'rating is missing or null')
        when coalesce(user_input, '') = '' then
            'user_input is ' || if(user_input_kind = 'text', 'blank', user_input_kind)
        when coalesce(model_response, '') = '' then
            'model_response is ' || if(model_response_kind = 'text', 'blank', model_response_kind)
        when first_position < position then
            'repeats record ' || first_position || if(source_id is null, ' (same content)', ' (same id)')
    end as detail,
    rating_json
from numbered
order by position
