{{ config(tests={'feedback_id': ['not_null', 'unique'], 'earlier_turns': ['not_null']}) }}
-- The training samples as conversations: each sample of training_samples with the system prompt it
-- is served with (var system_prompt; NULL when empty) and, with --var with_history=true, the earlier
-- turns of its chat session. The log holds only the turns that were rated, so a history is the rated
-- part of the conversation: turns never rated are missing from it.
-- A turn is earlier when it has the same session_id (not empty) and an earlier timestamp (ties: an
-- earlier record in the log); turns without a timestamp are never history, nor given any. Earlier
-- turns are context, never a target (the formats mark them so where they can: README, History).
-- They are the replies the user saw, whatever their rating, except those dropped in review, which
-- are in no file at all. A session is in one split, so its history is too.
with samples as (
    select * from {{ ref('training_samples') }}
)
{%- if var('with_history') %},

earlier as (
    select
        s.feedback_id,
        list({'user': {{ redact('h.user_input') }}, 'assistant': {{ redact('h.model_response') }}}
             order by h.timestamp, h.position)
            as turns
    from samples as s
    join {{ ref('training_candidates') }} as h
        on h.session_id = s.session_id
        and (h.timestamp < s.timestamp or (h.timestamp = s.timestamp and h.position < s.position))
    where s.session_id <> '' and s.timestamp <> '' and h.timestamp <> ''
        and coalesce(h.decision, '') <> 'drop'
    group by s.feedback_id
)
{%- endif %}

select
    s.position,
    s.source_file,
    s.ordinal,
    s.split,
    s.feedback_id,
    s.session_id,
    s.model_name,
    s.rating,
    s.timestamp,
    s.instruction,
    s.input,
    s.output,
    {{ system_prompt() }} as system,
    {%- if var('with_history') %}
    coalesce(e.turns, []) as earlier_turns,
    -- Alpaca's "history": [[instruction, response], ...]
    list_transform(coalesce(e.turns, []), lambda turn: [turn.user, turn.assistant]) as history
from samples as s
left join earlier as e using (feedback_id)
    {%- else %}
    []::STRUCT("user" VARCHAR, assistant VARCHAR)[] as earlier_turns,
    null::VARCHAR[][] as history  -- left out of the files without with_history
from samples as s
    {%- endif %}
