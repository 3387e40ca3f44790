{{ config(export=['dpo_sharegpt'], splits=split_files, unique_key='pair_id') }}
-- LLaMA-Factory's ShareGPT ranking form (ranking: true), how it takes multi-turn pairs:
-- {"conversations": [earlier turns..., {"from": "human", ...}], "chosen": {"from": "gpt", ...},
-- "rejected": {"from": "gpt", ...}, "system": ...}; system left out when empty.
select
    position,
    pair_id,
    split,
    {{ chat_messages(none, 'earlier_turns', 'prompt', style='sharegpt') }} as conversations,
    {{ chat_message('assistant', 'chosen', style='sharegpt') }} as chosen,
    {{ chat_message('assistant', 'rejected', style='sharegpt') }} as rejected,
    system
from {{ ref('preference_pairs') }}
