-- The app's feedback log, one row per record, in log order (ordinal = record number in the whole
-- log; position = record number in its file, from 1; source_file = the file, when feedback_file is a
-- glob of several, read in name order). The log may be a JSON array or JSON lines, gzip-compressed or
-- not (macros/inputs.sql). Fields are read as JSON so that no dirty value can fail the read; the
-- record rules (README, The models) are applied here: texts stripped, rating parsed, feedback_id set,
-- and `reason` (NULL = valid) said. feedback_log gathers this and the other front-ends' staging.
with raw as (
    {{ log_records('feedback', 'app', ['id', 'timestamp', 'session_id', 'model_name', 'user_input',
                                    'model_response', 'rating', 'temperature', 'top_p', 'top_k',
                                    'max_tokens', 'comment']) }}
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
    ordinal as position,  -- of one file; with several, made per file by feedback_log's first post hook
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
    end as reason,  -- and 'duplicate', set by feedback_log's post hook
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
