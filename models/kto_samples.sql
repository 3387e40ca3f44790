{{ config(materialized='view') }}  {#- only non-default formats and reports read it: a default build need not compute it #}
{{ config(export=['kto'], tests={'feedback_id': ['not_null', 'unique'], 'label': ['not_null']}) }}
-- TRL's unpaired preference form (KTOTrainer): {"prompt": [system?, user], "completion": [assistant],
-- "label": true|false}. A rating >= kto_good is desirable (true), <= kto_bad undesirable (false);
-- ratings between are left out. Only this model's replies when model_name is set; replies dropped
-- in review are left out, and texts are redacted (macros/redact.sql) as in every export.
with rated as (
    select *, {{ system_prompt() }} as system
    from {{ ref('training_candidates') }}
    where coalesce(decision, '') <> 'drop'
        and ({{ var('model_name') }} = '' or model_name = {{ var('model_name') }})
        and (rating >= {{ var('kto_good') }} or rating <= {{ var('kto_bad') }})
)

select
    position,
    feedback_id,
    model_name,
    rating,
    {{ chat_messages('system', none, redact('user_input')) }} as prompt,
    [{{ chat_message('assistant', redact('model_response')) }}] as completion,
    rating >= {{ var('kto_good') }} as label
from rated
