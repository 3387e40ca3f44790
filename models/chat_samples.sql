{{ config(tests={'feedback_id': ['not_null', 'unique'], 'earlier_turns': ['not_null']}) }}
-- The training samples as conversations: each sample of training_samples with the system prompt it
-- is served with (var system_prompt; NULL when empty) and, with --var with_history=true, the earlier
-- turns of its chat session. The log holds only the turns that were rated, so a history is the rated
-- part of the conversation: turns never rated are missing from it.
-- Which turns are history: macros/chat.sql, session_history. Earlier turns are context, never a
-- target (the formats mark them so where they can: README, History). A session is in one split, so
-- its history is too.
with samples as (
    select * from {{ ref('training_samples') }}
)
{%- if var('with_history') %},

earlier as (
    {{ session_history('samples') }}
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
