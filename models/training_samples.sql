{{ config(
    tests={
        'feedback_id': ['not_null', 'unique'],
        'rating': [{'accepted_values': {'values': [1, 2, 3, 4, 5]}}],
        'instruction': ['not_empty'],
        'output': ['not_empty'],
    }
) }}
-- The new samples: one per rated reply that passed every filter, in log order, with the reviewer's
-- corrected reply in place of the model's, sensitive content masked (macros/redact.sql), and the
-- split each falls in (by session, macros/split.sql). training_set writes them to the files.
-- redacted: a rule masked something in the instruction or the output.
with kept as (
    select *, coalesce(corrected_output, model_response) as reply
    from {{ ref('training_candidates') }}
    where excluded_by is null
),

samples as (
    select *, {{ redact('user_input') }} as instruction, {{ redact('reply') }} as output
    from kept
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
    instruction <> user_input or output <> reply as redacted,
    {% if var('val_ratio') %}{{ split_of("coalesce(nullif(session_id, ''), feedback_id)", var('val_ratio')) }}
    {%- else %}'train'{% endif %} as split
from samples
