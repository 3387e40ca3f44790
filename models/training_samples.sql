{#- Stored (a table): the files, the export history, the summary and the data tests all read these
    rows, and masking is the costly part of making them. incremental: each row is made from one
    record of the log, so a build that reads only the log's new records adds their rows to the last
    build's (engine/increment.py says when it may; otherwise every row is made anew). -#}
{{ config(materialized='table', role='samples', incremental=true) }}
{{ config(
    tests={
        'feedback_id': ['not_null', 'unique'],
        'rating': [{'accepted_values': {'values': [1, 2, 3, 4, 5]}}],
        'instruction': ['not_empty'],
        'output': ['not_empty'],
    }
) }}
-- The training samples: every reply that passed every filter of training_candidates (excluded_by
-- NULL), in log order, with the reviewer's corrected reply in place of the model's and sensitive
-- content masked (macros/redact.sql). The SFT files (training_set, the chat formats) write them.
-- redacted: a rule masked something in the instruction or the output.
with samples as (
    select *, {{ redact('user_input') }} as instruction, {{ redact('good_reply') }} as output
    from {{ ref('training_candidates') }}
    where excluded_by is null
)

select
    instruction,
    '' as input,
    output,
    rating,
    model_name,
    feedback_id,
    timestamp,
    position,
    source_file,
    ordinal,
    session_id,
    times_rated,
    decision as review,
    corrected_output is not null as corrected,
    instruction <> user_input or output <> good_reply as redacted,
    split
from samples
