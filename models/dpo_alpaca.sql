{{ config(materialized='view') }}  {#- only non-default formats and reports read it: a default build need not compute it #}
{{ config(export=['dpo_alpaca']) }}
-- LLaMA-Factory's ranking form (alpaca formatting, ranking: true):
-- {"instruction", "input", "chosen", "rejected", "system"}, system left out when empty.
select
    position,
    prompt as instruction,
    '' as input,
    chosen,
    rejected,
    system
from {{ ref('preference_pairs') }}
