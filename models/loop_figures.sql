{{ config(summary=true) }}
-- The feedback loop's figures, printed in the build summary as "topic: figure value, ..." and kept
-- in target/run_results.json. Add a row to show another figure.
{%- set candidates = ref('training_candidates') %}
{%- set samples = ref('training_samples') %}
with
{%- if var('redact') %}
redacted as (
    -- the placeholders the rules added, counted in a join of the redacted samples (few) with
    -- their texts before redaction
    select
    {%- for placeholder in redaction_placeholders %}
        sum({{ count_placeholder('s.instruction', placeholder) }} - {{ count_placeholder('c.user_input', placeholder) }}
            + {{ count_placeholder('s.output', placeholder) }}
            - {{ count_placeholder('coalesce(c.corrected_output, c.model_response)', placeholder) }}) as redacted_{{ loop.index }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ samples }} as s join {{ candidates }} as c using (feedback_id)
    where s.redacted
),
{%- endif %}
figures(n, topic, figure, value) as (
    select 1, 'review', 'kept', count(*) filter (where decision = 'keep') from {{ candidates }}
    union all select 2, 'review', 'dropped', count(*) filter (where decision = 'drop') from {{ candidates }}
    union all select 3, 'review', 'corrected', count(*) filter (where corrected) from {{ samples }}
    union all select 4, 'review', 'awaiting review', count(*) from {{ ref('review_queue') }}
{%- if var('redact') %}
{%- for placeholder in redaction_placeholders %}
    union all select 10 + {{ loop.index }}, 'redacted', {{ placeholder.strip('[]').lower() | literal }}, coalesce(redacted_{{ loop.index }}, 0) from redacted
{%- endfor %}
{%- endif %}
{%- if var('dedup') %}
    union all select 20, 'dedup', 'duplicate ratings left out', count(*) filter (where excluded_by = 'duplicate_rating') from {{ candidates }}
    union all select 21, 'dedup', 'samples rated more than once', count(*) filter (where times_rated > 1) from {{ samples }}
{%- endif %}
{%- if var('base_dataset') %}
    union all select 30, 'merged', 'base', count(*) from {{ ref('base_samples') }}
    union all select 31, 'merged', 'new', count(*) from {{ samples }}
    union all select 32, 'merged', 'duplicates of base left out', count(*) filter (where excluded_by = 'duplicate_of_base') from {{ candidates }}
    union all select 33, 'merged', 'total', count(*) from {{ ref('training_set') }}
{%- endif %}
{%- if var('val_ratio') %}
    union all select 40, 'split', 'train', count(*) filter (where split = 'train') from {{ ref('training_set') }}
    union all select 41, 'split', 'val', count(*) filter (where split = 'val') from {{ ref('training_set') }}
{%- endif %}
{%- if 'kto' in var('formats').value | join(' ') %}
    -- TRL's KTOTrainer wants desirable_weight * desirable / (undesirable_weight * undesirable)
    -- between 1 and 4/3: the desirable_weight that gets there with undesirable_weight 1
    union all select 50, 'kto', 'desirable', count(*) filter (where label) from {{ ref('kto_samples') }}
    union all select 51, 'kto', 'undesirable', count(*) filter (where not label) from {{ ref('kto_samples') }}
    union all select 52, 'kto', 'TRL desirable_weight', (
        select case when d = 0 or u = 0 then null when d >= u and 3 * d <= 4 * u then 1.0
                    else ceil(100.0 * u / d) / 100 end
        from (select count(*) filter (where label) as d, count(*) filter (where not label) as u
              from {{ ref('kto_samples') }}))
{%- endif %}
)
select topic, figure, value from figures order by n
