{{ config(export=['kto', 'kto_sharegpt'], splits=split_files, unique_key='feedback_id') }}
{{ config(tests={'feedback_id': ['not_null', 'unique'], 'label': ['not_null']}) }}
-- Unpaired preference rows: TRL's form (KTOTrainer) {"prompt": [system?, user], "completion": [assistant],
-- "label": true|false}, and LLaMA-Factory's (stage: kto) {"messages": [system?, user, assistant], "kto_tag"}. A good answer (rated >= kto_good, passing every gate of a positive target in
-- training_candidates; the reviewer's corrected reply in place of the model's) is desirable (true);
-- a bad answer (rated <= kto_bad; no review needed) undesirable (false); ratings between are left
-- out. Texts are redacted (macros/redact.sql) as in every export. With --var with_history=true the
-- prompt carries the session's earlier turns (macros/chat.sql, session_history), as context.
with rated as (
    select
        *,
        rating >= {{ var('kto_good') }} as label,
        {{ system_prompt() }} as system,
        {{ redact('case when rating >= ' ~ var('kto_good') ~ ' then good_reply else model_response end') }} as reply
    from {{ ref('training_candidates') }}
    where (rating >= {{ var('kto_good') }} and good_excluded_by is null)
       or (rating <= {{ var('kto_bad') }} and bad_excluded_by is null)
)
{%- if var('with_history') %},

earlier as (
    {{ session_history('rated') }}
)
{%- endif %}

select
    position,
    feedback_id,
    model_name,
    rating,
    split,
{%- set turns = 'coalesce(e.turns, [])' if var('with_history') else none %}
    {{ chat_messages('system', turns, redact('user_input')) }} as prompt,
    [{{ chat_message('assistant', 'reply') }}] as completion,
    label,
    {{ chat_messages('system', turns, redact('user_input'), 'reply') }} as messages,
    label as kto_tag
from rated
{%- if var('with_history') %}
left join earlier as e using (feedback_id)
{%- endif %}
