{{ config(export=['prompt_completion'], splits=split_files, unique_key='feedback_id') }}
-- TRL's conversational prompt-completion form (SFTTrainer): {"prompt": [system?, earlier turns...,
-- user], "completion": [assistant]}. Everything before the rated reply is the prompt, so TRL trains
-- the rated reply only (completion_only_loss): history is context, never a target.
select
    position,
    feedback_id,
    model_name,
    rating,
    split,
    {{ chat_messages('system', 'earlier_turns', 'instruction') }} as prompt,
    [{{ chat_message('assistant', 'output') }}] as completion
from {{ ref('chat_samples') }}
