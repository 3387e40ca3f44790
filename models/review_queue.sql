{{ config(role='review_queue') }}
-- The samples awaiting a person's review: every record that passes the rating, model and dedup
-- filters, is not a duplicate of the base set and has no decision yet, with its texts as they
-- would be exported. `python cli.py review export` writes it to a CSV for the reviewer (leaving out
-- what was decided since this build).
select
    feedback_id,
    {{ redact('user_input') }} as instruction,
    {{ redact('model_response') }} as output,
    rating,
    model_name,
    times_rated,
    timestamp,
    position,
    source_file
from {{ ref('training_candidates') }}
where decision is null
  and (excluded_by is null or excluded_by = 'awaiting_review')
