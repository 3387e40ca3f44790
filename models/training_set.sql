{{ config(export=['json', 'jsonl', 'alpaca']) }}
{%- if var('val_ratio') %}{{ config(splits=['train', 'val']) }}{% endif %}
-- What the files hold (json, jsonl, alpaca; alpaca with system and history when set, see
-- chat_samples): the base training set (--var base_dataset=PATH; none by default), then the
-- new samples in log order. With --var val_ratio=R > 0 each format is written as two files,
-- <file>_train and <file>_val, by the `split` column (base samples are all train).
select
    row_number() over (order by part, file, n) as position,
    instruction, input, output, system, history, rating, model_name, feedback_id, timestamp, split,
    origin
from (
    select
        0 as part, '' as file, position as n, instruction, input, output, null::VARCHAR as system,
        null::VARCHAR[][] as history, null::INTEGER as rating,
        null::VARCHAR as model_name, null::VARCHAR as feedback_id, null::VARCHAR as timestamp,
        'train' as split, 'base' as origin
    from {{ ref('base_samples') }}
    union all
    select
        1, source_file, position, instruction, input, output, system, history, rating, model_name,
        feedback_id, timestamp, split, 'feedback'
    from {{ ref('chat_samples') }}
)
order by position
