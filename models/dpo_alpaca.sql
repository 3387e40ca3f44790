{{ config(splits=split_files, unique_key='pair_id') }}
{{ config(export=['dpo_alpaca']) }}
-- LLaMA-Factory's ranking form (alpaca formatting, ranking: true):
-- {"instruction", "input", "chosen", "rejected", "system"}, system left out when empty.
select
    position,
    pair_id,
    split,
    prompt as instruction,
    '' as input,
    chosen,
    rejected,
    system
from {{ ref('preference_pairs') }}
