{{ config(role='eligibility') }}
-- Eligibility: every valid reply, and whether and why it may be trained on. Every file of every
-- format reads its rows from here, so one rule holds for all of them (README, One set of rules):
-- - good_excluded_by: why the reply may not be a good answer, a positive target (an SFT output, a
--   DPO chosen reply, a KTO desirable row); NULL: it may. It must pass every gate below.
-- - bad_excluded_by: why it may not be a bad answer, a negative target (a DPO rejected reply, a KTO
--   undesirable row); NULL: it may. A bad answer needs no review, but a reply dropped in review is
--   in no file at all.
-- - excluded_by: why it is not a training sample (SFT; NULL: it is one): below min_rating, or the
--   first gate it fails as a good answer. The build's accounting counts every value.
-- - split: 'train' or 'val', by its chat session (macros/split.sql); every format honours it.
-- - good_reply: the reply as a positive target: the reviewer's corrected output, else the model's.
-- Add a filter as another WHEN of good_excluded_by (or bad_excluded_by): every format follows.
-- (--new-only is a rule of the files: each leaves out the rows its own format wrote before.)
-- The loop's gates read the review decisions (fbt's state, see macros/state.sql), the base training
-- set (base_samples) and the dedup rules (macros/normalize.sql).
{%- set compare_texts = var('dedup') or var('base_dataset') %}
with reviewed as (
    select
        f.*,
        d.decision,
        nullif(d.corrected_output, '') as corrected_output,
        -- --model-name M: only M's replies are trained on
        {{ var('model_name') }} <> '' and f.model_name <> {{ var('model_name') }} as other_model
    from {{ ref('stg_feedback') }} as f
    left join {{ state('review_decisions') }} as d on d.feedback_id = f.feedback_id
),

compared as (
    select
        *
        {%- if compare_texts %},
        {{ normalize_text('user_input') }} as same_prompt,
        {{ normalize_text('model_response') }} as same_reply,
        {{ normalize_text('coalesce(corrected_output, model_response)') }} as same_output
        {%- endif %}
    from reviewed
),

ranked as (
    select
        c.*,
        {%- if var('base_dataset') %}
        b.same_prompt is not null as in_base,
        {%- else %}
        false as in_base,
        {%- endif %}
        {%- if var('dedup') %}
        -- The same prompt and reply rated several times: how often, and which rating is kept (of
        -- those that pass the rating and model filters: the highest, then the first in the log).
        count(*) over (partition by c.same_prompt, c.same_reply) as times_rated,
        row_number() over (
            partition by c.same_prompt, c.same_reply
            order by rating >= {{ var('min_rating') }} and not other_model desc, rating desc, source_file, position
        ) as rank_in_pair
        {%- else %}
        1 as times_rated,
        1 as rank_in_pair
        {%- endif %}
    from compared as c
    {%- if var('base_dataset') %}
    left join (select distinct same_prompt, same_output from {{ ref('base_samples') }}) as b
        on b.same_prompt = c.same_prompt and b.same_output = c.same_output
    {%- endif %}
),

gated as (
    select
        *,
        case
            when other_model then 'other_model'
            when rank_in_pair > 1 then 'duplicate_rating'
            when decision = 'drop' then 'dropped_in_review'
            when in_base then 'duplicate_of_base'
            when not {{ var('export_unreviewed') }} and decision is null then 'awaiting_review'
        end as good_excluded_by,
        case
            when other_model then 'other_model'
            when rank_in_pair > 1 then 'duplicate_rating'
            when decision = 'drop' then 'dropped_in_review'
        end as bad_excluded_by
    from ranked
)

select
    position, source_file, feedback_id, session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment, ordinal,
    message_id, thumbs, detailed_rating, feedback_reason, tags, arena, chat_title, siblings, history,
    decision, corrected_output, times_rated,
    coalesce(corrected_output, model_response) as good_reply,
    good_excluded_by,
    bad_excluded_by,
    case when rating < {{ var('min_rating') }} then 'below_min_rating' else good_excluded_by end as excluded_by,
    {{ split_of("coalesce(nullif(session_id, ''), feedback_id)", var('val_ratio')) }} as split
from gated
