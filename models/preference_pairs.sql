{#- A table when a dpo format is written (three files read it, in ranges of positions that a view
    would compute again for each); else a view: a default build need not compute it. -#}
{{ config(materialized='table' if 'dpo' in var('formats').value | join(' ') else 'view') }}
{{ config(tests={'chosen_id': ['not_null', 'unique'], 'rejected_id': ['not_null', 'unique']}) }}
-- Preference pairs (DPO): two replies to the same prompt whose ratings differ by at least min_gap;
-- the better one is chosen. Same prompt = the same stripped user_input; same model too, unless
-- --var same_model_pairs=false. Only this model's replies when model_name is set; replies dropped in
-- review are left out, and texts are redacted (macros/redact.sql) as in every export.
-- The pairing rule, so that a popular prompt cannot explode: the replies to a prompt are ranked best
-- first (higher rating, then earlier in the log); the 1st is paired with the last, the 2nd with the
-- second to last, and so on. Each reply is in at most one pair, the widest gaps come first, pairs
-- with a gap below min_gap are dropped, and at most max_pairs_per_prompt are kept.
with replies as (
    -- only what ranking needs: the replies' texts join in once the pairs are known (a window over
    -- the whole rows would sort every reply's text)
    select
        feedback_id, user_input, rating, model_name, position,
        -- the replies that may be paired: the same prompt and, with same_model_pairs, the same model
        case when {{ var('same_model_pairs') }} then model_name else '' end as pair_group
    from {{ ref('training_candidates') }}
    where coalesce(decision, '') <> 'drop'
        and ({{ var('model_name') }} = '' or model_name = {{ var('model_name') }})
),

ranked as (
    select
        *,
        row_number() over (partition by user_input, pair_group order by rating desc, position) as rank,
        count(*) over (partition by user_input, pair_group) as replies
    from replies
),

pairs as (
    select
        c.rank, c.user_input, c.rating as chosen_rating, r.rating as rejected_rating,
        c.model_name as chosen_model, r.model_name as rejected_model,
        c.feedback_id as chosen_id, r.feedback_id as rejected_id,
        c.position as chosen_position, r.position as rejected_position
    from ranked as c
    join ranked as r
        on r.user_input = c.user_input
        and r.pair_group = c.pair_group
        and r.rank = c.replies + 1 - c.rank
    where 2 * c.rank <= c.replies
        and c.rating - r.rating >= {{ var('min_gap') }}
        and c.rank <= {{ var('max_pairs_per_prompt') }}
)

select
    least(p.chosen_position, p.rejected_position) as position,
    p.rank as pair_rank,
    {{ redact('p.user_input') }} as prompt,
    {{ system_prompt() }} as system,
    {{ redact('chosen.model_response') }} as chosen,
    {{ redact('rejected.model_response') }} as rejected,
    p.chosen_rating,
    p.rejected_rating,
    p.chosen_model,
    p.rejected_model,
    p.chosen_id,
    p.rejected_id,
    p.chosen_position,
    p.rejected_position
from pairs as p
join {{ ref('training_candidates') }} as chosen on chosen.feedback_id = p.chosen_id
join {{ ref('training_candidates') }} as rejected on rejected.feedback_id = p.rejected_id
