{{ config(role='rejected') }}
-- The quarantine: every record that is not valid feedback, with its record number in the log,
-- a reason code and a detail a person can act on. read = rejected + valid, always.
select
    position, source_file, reason, detail, feedback_id, session_id, timestamp, model_name, user_input,
    model_response, rating_json as rating
from {{ ref('feedback_log') }}
where reason is not null
