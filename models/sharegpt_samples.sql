{{ config(materialized='view') }}  {#- only non-default formats and reports read it: a default build need not compute it #}
{{ config(export=['sharegpt']) }}
-- LLaMA-Factory's ShareGPT form of the training set: {"conversations": [{"from": "human", ...},
-- {"from": "gpt", ...}], "system": ...}, earlier turns first (with_history), system left out when empty.
select
    position,
    feedback_id,
    model_name,
    rating,
    {{ chat_messages(none, 'earlier_turns', 'instruction', 'output', style='sharegpt') }} as conversations,
    system
from {{ ref('chat_samples') }}
