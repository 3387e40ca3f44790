{{ config(materialized='view') }}  {#- a filter with two small joins: reading it again is cheaper than a copy of every text #}
-- Every valid record, with the filter that keeps it out of the training set (NULL = a sample).
-- Add a filter as another WHEN: the build's accounting counts each excluded_by value.
-- The loop's filters read the review decisions and the export history (fbt's state, see
-- macros/state.sql), the base training set (base_samples) and the dedup rules (macros/normalize.sql).
{%- set compare_texts = var('dedup') or var('base_dataset') %}
with reviewed as (
    select
        f.*,
        d.decision,
        nullif(d.corrected_output, '') as corrected_output,
        e.feedback_id is not null as exported_before
    from {{ ref('stg_feedback') }} as f
    left join {{ state('review_decisions') }} as d on d.feedback_id = f.feedback_id
    left join {{ state('exported_samples') }} as e on e.feedback_id = f.feedback_id
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
        count(*) over same_pair as times_rated,
        row_number() over (
            same_pair order by rating >= {{ var('min_rating') }}
                and ({{ var('model_name') }} = '' or model_name = {{ var('model_name') }}) desc,
            rating desc, source_file, position
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
    {%- if var('dedup') %}
    window same_pair as (partition by c.same_prompt, c.same_reply)
    {%- endif %}
)

select
    position, source_file, feedback_id, session_id, timestamp, model_name, user_input, model_response, rating,
    temperature, top_p, top_k, max_tokens, comment, ordinal,
    decision, corrected_output, times_rated,
    case
        when rating < {{ var('min_rating') }} then 'below_min_rating'
        when {{ var('model_name') }} <> '' and model_name <> {{ var('model_name') }} then 'other_model'
        when rank_in_pair > 1 then 'duplicate_rating'
        when decision = 'drop' then 'dropped_in_review'
        when in_base then 'duplicate_of_base'
        when not {{ var('export_unreviewed') }} and decision is null then 'awaiting_review'
        when {{ var('new_only') }} and exported_before then 'already_exported'
    end as excluded_by
from ranked
