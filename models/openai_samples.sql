{{ config(export=['openai'], splits=split_files, unique_key='feedback_id') }}
-- OpenAI's chat fine-tuning form of the training samples: {"messages": [{"role": "system", ...},
-- {"role": "user", ...}, {"role": "assistant", ...}]}; the system message only when system_prompt is
-- set. With with_history the earlier turns come first, their assistant messages marked
-- "weight": 0 (OpenAI's field: context, not trained); the rated reply is the one target.
select
    position,
    feedback_id,
    model_name,
    rating,
    split,
    {{ chat_messages('system', 'earlier_turns', 'instruction', 'output',
                     style='weighted' if var('with_history') else 'openai') }} as messages
from {{ ref('chat_samples') }}
