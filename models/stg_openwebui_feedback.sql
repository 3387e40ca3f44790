-- Open WebUI's feedback export (Admin > Evaluations > Feedback > Export), one row per record, in the
-- log's columns (as stg_app_feedback) and Open WebUI's own. A record is one rated reply: its `meta`
-- names the chat and the rated message, its `snapshot` holds the chat as it stood when the rating
-- was given (chat.chat.history.messages: every message by id, each with its parentId and
-- childrenIds), its `data` the rating: thumbs (1 = 👍, -1 = 👎; sometimes the string "1"), an
-- optional 1-10 score (details.rating), a reason, a comment and tags. README, From Open WebUI, has
-- the mapping; tests/openwebui.py says which of Open WebUI's source it follows.
with raw as (
    -- the records, the snapshot's parts read as chat_title, params and messages (a map from
    -- message id to message): macros/openwebui.sql
    {{ read_openwebui('feedback', ['id', 'type', 'data', 'meta', 'created_at']) }}
),

records as (
    -- Each JSON value decoded once.
    select
        ordinal,
        source_file,
        {{ json_label('id') }} as id,
        {{ json_label('type') }} as type,
        {{ json_label(json_at('meta', '$.chat_id')) }} as chat_id,
        {{ json_label(json_at('meta', '$.message_id')) }} as message_id,
        {{ json_label(json_at('data', '$.model_id')) }} as model_id,
        nullif({{ json_label(json_at('data', '$.rating')) }}, 'null') as thumbs_json,
        nullif({{ json_label(json_at('data', '$.details.rating')) }}, 'null') as score_json,
        nullif({{ strip_text(json_string(json_at('data', '$.reason'))) }}, '') as feedback_reason,
        {{ json_string(json_at('data', '$.comment')) }} as comment,
        {{ json_texts('data', '$.tags') }} as tags,
        (meta ->> '$.arena') = 'true' as arena,
        {{ json_string('chat_title') }} as chat_title,
        params,
        try_cast(created_at::VARCHAR as BIGINT) as created_at,
        messages
    from raw
),

rated as (
    -- the rated message and the user message it answers (its parent)
    select *, messages[message_id] as reply, messages[messages[message_id]."parentId"] as asked
    from records
),

answered as (
    -- every answer to that user message (the rated one among them): message_id, role, model, content
    select *, {{ prompt_answers('messages', 'asked', 'message_id') }} as answers
    from rated
),

parsed as (
    select
        ordinal,
        source_file,
        nullif({{ strip_text('id') }}, '') as source_id,
        coalesce({{ strip_text('chat_id') }}, '') as session_id,
        -- created_at is in epoch seconds: ISO 8601, UTC
        coalesce({{ epoch_iso('created_at') }}, '') as timestamp,
        coalesce(nullif({{ strip_text('model_id') }}, ''), 'unknown') as model_name,
        case when asked.role = 'user' then {{ strip_text(json_string('asked.content')) }} end as user_input,
        {{ strip_text(json_string('reply.content')) }} as model_response,
        type,
        messages is not null as has_snapshot,
        reply is not null as has_message,
        message_id,
        asked.role as asked_role,
        -- 👍 = 1, 👎 = -1 (1, "1" and 1.0 alike)
        case try_cast({{ strip_text('thumbs_json') }} as DOUBLE) when 1 then 1 when -1 then -1 end as thumbs,
        -- the 1-10 score, when one was picked
        case when {{ full_match(strip_text('score_json'), '[+]?[0-9]+(\\.0*)?') }}
                  and try_cast({{ strip_text('score_json') }} as DOUBLE) between 1 and 10
             then try_cast({{ strip_text('score_json') }} as DOUBLE)::INTEGER end as detailed_rating,
        score_json,
        thumbs_json,
        feedback_reason, comment, tags, arena, chat_title,
        try_cast(params ->> '$.temperature' as DOUBLE) as temperature,
        try_cast(params ->> '$.top_p' as DOUBLE) as top_p,
        try_cast(params ->> '$.top_k' as BIGINT) as top_k,
        try_cast(params ->> '$.max_tokens' as BIGINT) as max_tokens,
        -- the other answers to the same user message: regenerations, the arena's other side
        list_transform(
            list_filter(answers, lambda a: a.message_id <> message_id
                                           and a.role = 'assistant' and a.content <> ''),
            lambda a: {'message_id': a.message_id, 'model': a.model, 'content': a.content}) as siblings,
        messages,
        reply."parentId" as asked_id
    from answered
),

mapped as (
    -- the rating 1-5: the 1-10 score halved, rounded up; without one, the thumbs (vars
    -- thumbs_up_rating, thumbs_down_rating)
    select
        *,
        case
            when score_json is not null then ceil(detailed_rating / 2)::INTEGER
            when thumbs = 1 then {{ var('thumbs_up_rating') }}
            when thumbs = -1 then {{ var('thumbs_down_rating') }}
        end as rating,
        coalesce(score_json, thumbs_json) as rating_json
    from parsed
)
{%- if var('with_history') %},

chain as (
    -- with_history: the chat before the prompt, from its first message, following parentId up
    -- from the rated message's user message (unrated turns included)
    {{ chat_before_prompt('mapped') }}
)
{%- endif %}

select
    ordinal as position,  -- of one file; with several, made per file by feedback_log's first post hook
    source_file,
    case when source_id is null then {{ content_id() }} else source_id end as feedback_id,
    session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment,
    case
        when coalesce(type, '') <> 'rating' then 'not_a_rating'
        when not has_snapshot then 'no_snapshot'
        when not has_message then 'message_not_in_snapshot'
        when rating is null then 'invalid_rating'
        when coalesce(user_input, '') = '' then 'empty_user_input'
        when coalesce(model_response, '') = '' then 'empty_model_response'
    end as reason,  -- and 'duplicate', set by feedback_log's post hook
    case
        when coalesce(type, '') <> 'rating' then
            'type is ' || coalesce('"' || type || '"', 'missing') || ', not "rating"'
        when not has_snapshot then
            'no snapshot.chat.chat.history.messages (an export from an Open WebUI without snapshots?)'
        when not has_message then
            'message ' || coalesce(message_id, '(meta.message_id missing)') || ' is not in the snapshot'
        when rating is null and score_json is not null then
            'details.rating ' || score_json || ' is not an integer from 1 to 10'
        when rating is null then
            coalesce('data.rating ' || thumbs_json || ' is neither 1 (👍) nor -1 (👎)', 'data.rating is missing or null')
            || ', and there is no 1-10 score'
        when coalesce(user_input, '') = '' then
            if(asked_role = 'user', 'the user message is blank', 'the rated message answers no user message')
        when coalesce(model_response, '') = '' then 'the rated message is blank'
    end as detail,
    rating_json,
    ordinal,
    -- Open WebUI's own
    message_id,
    thumbs,
    detailed_rating,
    feedback_reason,
    tags,
    arena,
    chat_title,
    siblings,
    {%- if var('with_history') %}
    coalesce(chain.turns, []) as history
from mapped
left join chain using (ordinal)
    {%- else %}
    null::STRUCT("user" VARCHAR, assistant VARCHAR, message_id VARCHAR)[] as history
from mapped
    {%- endif %}
