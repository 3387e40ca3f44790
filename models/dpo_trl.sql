{{ config(splits=split_files, unique_key='pair_id') }}
{{ config(export=['dpo_trl']) }}
-- TRL's conversational preference form (DPOTrainer): {"prompt": [system?, user], "chosen":
-- [assistant], "rejected": [assistant]}; TRL applies the model's chat template.
select
    position,
    pair_id,
    split,
    {{ chat_messages('system', 'earlier_turns', 'prompt') }} as prompt,
    [{{ chat_message('assistant', 'chosen') }}] as chosen,
    [{{ chat_message('assistant', 'rejected') }}] as rejected
from {{ ref('preference_pairs') }}
