{{ config(role='review_queue') }}
-- The replies awaiting a person's review: every reply that some format could train on as a good
-- answer (an SFT output rated >= min_rating, a KTO desirable row rated >= kto_good, a DPO chosen
-- reply rated min_gap above a 1) once it is reviewed: it passes every other gate of a good answer
-- and has no decision yet, with its texts as they would be exported. `python cli.py review export` writes it to a CSV for the reviewer (leaving out
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
  and (good_excluded_by is null or good_excluded_by = 'awaiting_review')
  and rating >= least({{ var('min_rating') }}, {{ var('kto_good') }}, 1 + {{ var('min_gap') }})
