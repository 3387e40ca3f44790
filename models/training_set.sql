{{ config(export=['json', 'jsonl', 'alpaca'], splits=split_files, unique_key='feedback_id') }}
-- What the SFT files hold (json, jsonl, alpaca; alpaca with system and history when set, see
-- chat_samples): the base training set (--var base_dataset=PATH; none by default), then the
-- training samples in log order. With --var val_ratio=R > 0 each format is written as two files,
-- <file>_train and <file>_val, by the `split` column (base samples are all train).
-- position orders the files: for a new sample its record number in the whole log (ordinal), for a
-- base sample 0 or less (see base_samples).
select
    position, instruction, input, output, null::VARCHAR as system, null::VARCHAR[][] as history,
    null::INTEGER as rating, null::VARCHAR as model_name, null::VARCHAR as feedback_id,
    null::VARCHAR as timestamp, 'train' as split, 'base' as origin
from {{ ref('base_samples') }}
union all
select
    ordinal, instruction, input, output, system, history, rating, model_name, feedback_id, timestamp,
    split, 'feedback'
from {{ ref('chat_samples') }}
