{{ config(tests={'chosen_id': ['not_null'], 'rejected_id': ['not_null'], 'pair_id': ['unique']}) }}
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
-- Sibling pairs (kind 'sibling'; Open WebUI's export, --var sibling_pairs=false turns them off): the
-- other answers to the same user message (a regeneration, the arena's other side) are in the
-- snapshot, and Open WebUI's leaderboard counts a 👍 reply as a win over each of them and a 👎 reply
-- as a loss to each. So a 👍 reply (a good answer) is chosen over each sibling, and a 👎 reply (a bad
-- answer) rejected against each; no min_gap. A sibling rated itself is that record, with its gates
-- (a 👍 is never rejected, a 👎 never chosen); an unrated one is a good answer only when unreviewed
-- replies are exported (export_unreviewed) and a bad one always, both of model_name when given.
-- At most max_pairs_per_prompt sibling pairs per prompt, the earliest in the log first; the same
-- two replies are one pair (a rating pair first). Rating pairs keep each reply in at most one pair;
-- a sibling pair may share a reply with another pair.
{%- set sibling_pairs = var('sibling_pairs') %}
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
),

rating_pairs as (
    select
        p.*, 'rating' as kind, chosen.good_reply as chosen_reply, rejected.model_response as rejected_reply
    from pairs as p
    join {{ ref('training_candidates') }} as chosen on chosen.feedback_id = p.chosen_id
    join {{ ref('training_candidates') }} as rejected on rejected.feedback_id = p.rejected_id
)
{%- if sibling_pairs %},

rated_siblings as (
    -- each rated reply (👍 a good answer, 👎 a bad one) with each other answer to its prompt
    select
        r.feedback_id, r.thumbs, r.rating, r.model_name, r.position, r.split, r.session_id, r.user_input,
        r.good_reply, r.model_response, s.sibling, s.n
    from {{ ref('training_candidates') }} as r
    cross join unnest(r.siblings) with ordinality as s(sibling, n)
    where (r.thumbs = 1 and r.good_excluded_by is null) or (r.thumbs = -1 and r.bad_excluded_by is null)
),

sibling_answers as (
    -- and the sibling's own record when it was rated too
    select
        r.* exclude (sibling),
        r.sibling.message_id as sibling_message_id, r.sibling.model as sibling_model,
        r.sibling.content as sibling_content,
        o.feedback_id as sibling_id, o.thumbs as sibling_thumbs, o.rating as sibling_rating,
        o.position as sibling_position, o.good_reply as sibling_good_reply,
        o.good_excluded_by as sibling_good_excluded_by, o.bad_excluded_by as sibling_bad_excluded_by
    from rated_siblings as r
    left join {{ ref('training_candidates') }} as o
        on o.session_id = r.session_id and o.message_id = r.sibling.message_id
),

sibling_pairs as (
    select
        user_input, split,
        -- a 👍 reply wins over its sibling; a 👎 reply loses to it
        if(thumbs = 1, rating, sibling_rating) as chosen_rating,
        if(thumbs = 1, sibling_rating, rating) as rejected_rating,
        if(thumbs = 1, model_name, sibling_model) as chosen_model,
        if(thumbs = 1, sibling_model, model_name) as rejected_model,
        if(thumbs = 1, feedback_id, coalesce(sibling_id, sibling_message_id)) as chosen_id,
        if(thumbs = 1, coalesce(sibling_id, sibling_message_id), feedback_id) as rejected_id,
        if(thumbs = 1, position, coalesce(sibling_position, position)) as chosen_position,
        if(thumbs = 1, coalesce(sibling_position, position), position) as rejected_position,
        feedback_id as context_id,  -- siblings share the chat before the prompt
        'sibling' as kind,
        if(thumbs = 1, good_reply, coalesce(sibling_good_reply, sibling_content)) as chosen_reply,
        if(thumbs = 1, sibling_content, model_response) as rejected_reply,
        position, n
    from sibling_answers
    where ({{ var('model_name') }} = '' or sibling_model = {{ var('model_name') }})
        and (not {{ var('same_model_pairs') }} or sibling_model = model_name)
        and case
            when thumbs = 1 and sibling_id is not null then coalesce(sibling_thumbs, 0) <> 1
                                                         and sibling_bad_excluded_by is null
            when thumbs = 1 then true
            when sibling_id is not null then coalesce(sibling_thumbs, 0) <> -1 and sibling_good_excluded_by is null
            else {{ var('export_unreviewed') }}
        end
),

new_sibling_pairs as (
    -- one pair per two replies (a pair found from both sides, or already a rating pair, once)
    select *
    from sibling_pairs as s
    where not exists (select 1 from rating_pairs as p where p.chosen_id = s.chosen_id and p.rejected_id = s.rejected_id)
    qualify row_number() over (partition by chosen_id, rejected_id order by position, n) = 1
),

ranked_sibling_pairs as (
    select * exclude (n), row_number() over (partition by user_input, split order by position, n) as rank
    from new_sibling_pairs
    qualify rank <= {{ var('max_pairs_per_prompt') }}
)
{%- endif %},

all_pairs as (
    select * from rating_pairs
    {%- if sibling_pairs %}
    union all by name
    select * exclude (position) from ranked_sibling_pairs
    {%- endif %}
)
{%- if var('with_history') %},

contexts as (
    select h.feedback_id, h.session_id, h.timestamp, h.position
    from all_pairs as p
    join {{ ref('training_candidates') }} as h on h.feedback_id = p.context_id
),

earlier as (
    {{ session_history('contexts') }}
)
{%- endif %}

select
    least(p.chosen_position, p.rejected_position) as position,
    p.rank as pair_rank,
    p.kind,
    p.chosen_id || ' > ' || p.rejected_id as pair_id,
    p.split,
    {{ redact('p.user_input') }} as prompt,
    {{ system_prompt() }} as system,
    {{ redact('p.chosen_reply') }} as chosen,
    {{ redact('p.rejected_reply') }} as rejected,
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
from all_pairs as p
{%- if var('with_history') %}
left join earlier as e on e.feedback_id = p.context_id
{%- endif %}
