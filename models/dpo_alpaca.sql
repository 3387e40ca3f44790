{{ config(splits=split_files, unique_key='pair_id') }}
{{ config(export=['dpo_alpaca']) }}
-- LLaMA-Factory's ranking form (alpaca formatting, ranking: true):
-- {"instruction", "input", "chosen", "rejected", "system", "history"}, system left out when empty,
-- history without with_history.
select
    position,
    pair_id,
    split,
    prompt as instruction,
    '' as input,
    chosen,
    rejected,
    system,
    history
from {{ ref('preference_pairs') }}
