{{ config(export=['json', 'jsonl', 'alpaca']) }}
{%- if var('val_ratio') %}{{ config(splits=['train', 'val']) }}{% endif %}
-- What the files hold (json, jsonl, alpaca; alpaca with system and history when set, see
-- chat_samples): the base training set (--var base_dataset=PATH; none by default), then the
-- new samples in log order. With --var val_ratio=R > 0 each format is written as two files,
-- <file>_train and <file>_val, by the `split` column (base samples are all train).
-- position orders the files: a base sample's own, then for a new sample the size of the base set
-- plus its record number in the whole log (files in name order). Not a row_number(): that would
-- sort every row with its texts, which DuckDB cannot spill within memory_limit at 10M records.
with files as (
    -- where each file of the log starts in the whole log: one narrow row per file
    select source_file, min(ordinal) - min(position) as records_before
    from {{ ref('feedback_log') }}
    group by source_file
)

select
    position, instruction, input, output, system, history, rating, model_name, feedback_id, timestamp,
    split, origin
from (
    select
        position, instruction, input, output, null::VARCHAR as system,
        null::VARCHAR[][] as history, null::INTEGER as rating,
        null::VARCHAR as model_name, null::VARCHAR as feedback_id, null::VARCHAR as timestamp,
        'train' as split, 'base' as origin
    from {{ ref('base_samples') }}
    union all
    select
        (select count(*) from {{ ref('base_samples') }}) + f.records_before + c.position,
        instruction, input, output, system, history, rating, model_name,
        feedback_id, timestamp, split, 'feedback'
    from {{ ref('chat_samples') }} as c
    join files as f using (source_file)
)
