{{ config(export=['sharegpt'], splits=split_files, unique_key='feedback_id') }}
-- LLaMA-Factory's ShareGPT form of the training samples: {"conversations": [{"from": "human", ...},
-- {"from": "gpt", ...}], "system": ...}, earlier turns first (with_history; set LLaMA-Factory's
-- mask_history: true so that only the last reply is trained), system left out when empty.
select
    position,
    feedback_id,
    model_name,
    rating,
    split,
    {{ chat_messages(none, 'earlier_turns', 'instruction', 'output', style='sharegpt') }} as conversations,
    system
from {{ ref('chat_samples') }}
