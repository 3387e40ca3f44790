{#- A view: the system prompt is a constant, and the history empty unless with_history is on; then
    a table, since the files read it in ranges of positions that a view would compute again for each. -#}
{{ config(materialized='table' if var('with_history') else 'view') }}
{{ config(tests={'feedback_id': ['not_null', 'unique'], 'earlier_turns': ['not_null']}) }}
-- The training set as conversations: each sample of training_samples with the system prompt it is
-- served with (var system_prompt; NULL when empty) and, with --var with_history=true, the earlier
-- turns of its chat session. The log holds only the turns that were rated, so a history is the rated
-- part of the conversation: turns never rated are missing from it.
-- A turn is earlier when it has the same session_id (not empty) and an earlier timestamp (ties: an
-- earlier record in the log); turns without a timestamp are never history, nor given any. Earlier
-- turns are taken from all valid feedback, whatever their rating: they are what the user saw.
with samples as (
    select * from {{ ref('training_samples') }}
),

earlier as (
    select
        s.feedback_id,
        list({'user': {{ redact('h.user_input') }}, 'assistant': {{ redact('h.model_response') }}}
             order by h.timestamp, h.position)
            as turns
    from samples as s
    join {{ ref('stg_feedback') }} as h
        on h.session_id = s.session_id
        and (h.timestamp < s.timestamp or (h.timestamp = s.timestamp and h.position < s.position))
    where {{ var('with_history') }} and s.session_id <> '' and s.timestamp <> '' and h.timestamp <> ''
    group by s.feedback_id
)

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
    coalesce(e.turns, []) as earlier_turns,
    -- Alpaca's "history": [[instruction, response], ...]; NULL (left out) without with_history.
    case when {{ var('with_history') }}
        then list_transform(coalesce(e.turns, []), lambda turn: [turn.user, turn.assistant]) end
        as history
from samples as s
left join earlier as e using (feedback_id)
