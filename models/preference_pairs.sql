{{ config(tests={'chosen_id': ['not_null', 'unique'], 'rejected_id': ['not_null', 'unique'],
                 'pair_id': ['unique']}) }}
-- Preference pairs (DPO): two replies to the same prompt whose ratings differ by at least min_gap;
-- the better one is chosen. Same prompt = the same stripped user_input; same model too, unless
-- --var same_model_pairs=false. The chosen reply is a good answer (it passes every gate of a
-- positive target in training_candidates, and the reviewer's corrected reply replaces it), the
-- rejected one a bad answer (no review needed; a reply dropped in review is never paired). Texts
-- are redacted (macros/redact.sql) as in every export.
-- The pairing rule, so that a popular prompt cannot explode: the good answers to a prompt are
-- ranked best first (higher rating, then earlier in the log), the bad ones worst first (lower
-- rating, then later in the log); the 1st of each are paired, then the 2nd, and so on. Each reply
-- is in at most one pair, the widest gaps come first, pairs with a gap below min_gap are dropped,
-- and at most max_pairs_per_prompt are kept.
-- The replies are paired within their split (var val_ratio): both replies of a pair are in training
-- sessions, or both in validation sessions, and the pair is in that split's files.
-- With --var with_history=true the replies are paired within their chat session (a regenerated
-- reply and the first one), and the pair's prompt carries the session's turns before the earlier of
-- the two (macros/chat.sql, session_history), as context: earlier_turns, and Alpaca's history.
with replies as (
    -- only what ranking needs: the replies' texts join in once the pairs are known (a window over
    -- the whole rows would sort every reply's text)
    select
        feedback_id, user_input, rating, model_name, position, split,
        good_excluded_by is null as good, bad_excluded_by is null as bad,
        -- the replies that may be paired: the same prompt and split and, with same_model_pairs, the
        -- same model
        split || ':' || case when {{ var('same_model_pairs') }} then model_name else '' end
            {%- if var('with_history') %} || ':' || session_id{% endif %} as pair_group
    from {{ ref('training_candidates') }}
    where good_excluded_by is null or bad_excluded_by is null
),

best_first as (
    select *, row_number() over (partition by user_input, pair_group order by rating desc, position) as rank
    from replies
    where good
),

worst_first as (
    select *, row_number() over (partition by user_input, pair_group order by rating, position desc) as rank
    from replies
    where bad
),

pairs as (
    select
        c.rank, c.user_input, c.rating as chosen_rating, r.rating as rejected_rating,
        c.model_name as chosen_model, r.model_name as rejected_model,
        c.feedback_id as chosen_id, r.feedback_id as rejected_id,
        c.position as chosen_position, r.position as rejected_position, c.split,
        -- the earlier of the two replies, whose history is the pair's
        case when c.position < r.position then c.feedback_id else r.feedback_id end as context_id
    from best_first as c
    join worst_first as r
        on r.user_input = c.user_input
        and r.pair_group = c.pair_group
        and r.rank = c.rank
    where c.rating - r.rating >= {{ var('min_gap') }}
        and c.rank <= {{ var('max_pairs_per_prompt') }}
)
{%- if var('with_history') %},

contexts as (
    select h.feedback_id, h.session_id, h.timestamp, h.position
    from pairs as p
    join {{ ref('training_candidates') }} as h on h.feedback_id = p.context_id
),

earlier as (
    {{ session_history('contexts') }}
)
{%- endif %}

select
    least(p.chosen_position, p.rejected_position) as position,
    p.rank as pair_rank,
    p.chosen_id || ' > ' || p.rejected_id as pair_id,
    p.split,
    {{ redact('p.user_input') }} as prompt,
    {{ system_prompt() }} as system,
    {{ redact('chosen.good_reply') }} as chosen,
    {{ redact('rejected.model_response') }} as rejected,
    p.chosen_rating,
    p.rejected_rating,
    p.chosen_model,
    p.rejected_model,
    p.chosen_id,
    p.rejected_id,
    p.chosen_position,
    p.rejected_position,
    {%- if var('with_history') %}
    coalesce(e.turns, []) as earlier_turns,
    list_transform(coalesce(e.turns, []), lambda turn: [turn.user, turn.assistant]) as history
    {%- else %}
    []::STRUCT("user" VARCHAR, assistant VARCHAR)[] as earlier_turns,
    null::VARCHAR[][] as history  -- left out of the files without with_history
    {%- endif %}
from pairs as p
join {{ ref('training_candidates') }} as chosen on chosen.feedback_id = p.chosen_id
join {{ ref('training_candidates') }} as rejected on rejected.feedback_id = p.rejected_id
{%- if var('with_history') %}
left join earlier as e on e.feedback_id = p.context_id
{%- endif %}
