{{ config(materialized='view') }}  {#- the samples' texts are stored once, in training_samples #}
{{ config(export=['json', 'jsonl', 'alpaca']) }}
{%- if var('val_ratio') %}{{ config(splits=['train', 'val']) }}{% endif %}
-- What the files hold (json, jsonl, alpaca; alpaca with system and history when set, see
-- chat_samples): the base training set (--var base_dataset=PATH; none by default), then the
-- new samples in log order. With --var val_ratio=R > 0 each format is written as two files,
-- <file>_train and <file>_val, by the `split` column (base samples are all train).
-- position orders the files: for a new sample its record number in the whole log (ordinal), for a
-- base sample its record number in the base set minus the size of the base set (so 0 or less:
-- first). A plain column for the new samples, so that the exports' reads of a range of positions
-- reach training_samples' zonemaps and skip the rest.
select
    b.position - base_size.samples as position,
    b.instruction, b.input, b.output, null::VARCHAR as system, null::VARCHAR[][] as history,
    null::INTEGER as rating, null::VARCHAR as model_name, null::VARCHAR as feedback_id,
    null::VARCHAR as timestamp, 'train' as split, 'base' as origin
from {{ ref('base_samples') }} as b
cross join (select count(*) as samples from {{ ref('base_samples') }}) as base_size
union all
select
    ordinal, instruction, input, output, system, history, rating, model_name, feedback_id, timestamp,
    split, 'feedback'
from {{ ref('chat_samples') }}
