{{ config(role='valid') }}
-- The valid feedback: every record of the log with a rating 1-5, a prompt and a reply, first
-- occurrence only. Ask questions of the feedback here.
select
    position, source_file, feedback_id, session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment, ordinal,
    -- Open WebUI's own (NULL for the app's log): README, From Open WebUI
    message_id, thumbs, detailed_rating, feedback_reason, tags, arena, chat_title, siblings, history
from {{ ref('feedback_log') }}
where reason is null
