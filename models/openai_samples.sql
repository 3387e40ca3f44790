{{ config(materialized='view') }}  {#- only non-default formats and reports read it: a default build need not compute it #}
{{ config(export=['openai']) }}
-- OpenAI's chat fine-tuning form of the training set: {"messages": [{"role": "system", ...},
-- {"role": "user", ...}, {"role": "assistant", ...}]}; the system message only when system_prompt is set,
-- earlier turns (with_history) before the rated one.
select
    position,
    feedback_id,
    model_name,
    rating,
    {{ chat_messages('system', 'earlier_turns', 'instruction', 'output') }} as messages
from {{ ref('chat_samples') }}
