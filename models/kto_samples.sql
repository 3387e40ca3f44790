{{ config(export=['kto'], tests={'feedback_id': ['not_null', 'unique'], 'label': ['not_null']}) }}
-- TRL's unpaired preference form (KTOTrainer): {"prompt": [system?, user], "completion": [assistant],
-- "label": true|false}. A rating >= kto_good is desirable (true), <= kto_bad undesirable (false);
-- ratings between are left out. Only this model's replies when model_name is set.
with rated as (
    select *, {{ system_prompt() }} as system
    from {{ ref('stg_feedback') }}
    where ({{ var('model_name') }} = '' or model_name = {{ var('model_name') }})
        and (rating >= {{ var('kto_good') }} or rating <= {{ var('kto_bad') }})
)

select
    position,
    feedback_id,
    model_name,
    rating,
    {{ chat_messages('system', none, 'user_input') }} as prompt,
    [{{ chat_message('assistant', 'model_response') }}] as completion,
    rating >= {{ var('kto_good') }} as label
from rated
order by position
