{#- incremental: each row depends on its record alone (what needs the whole log is the post hooks'
    work, over the whole table): a build whose log only grew reads only the new records, after the
    last build's rows (engine/tail.py; --full-refresh or --var full_parse=true reads it all). -#}
{{ config(role='log', incremental=true) }}
{%- set log_path = var('feedback_file').value %}
{%- set several_files = '*' in log_path or '?' in log_path or '[' in log_path %}
-- Every record of the feedback log, one row each, stored in log order: the staging model of the
-- front-end that wrote the log (the app's, or Open WebUI's feedback export), each yielding the same
-- columns (position, source_file, feedback_id, session_id, timestamp, model_name, user_input,
-- model_response, rating, ..., reason, detail, ordinal) and Open WebUI's its own besides (thumbs,
-- detailed_rating, ...: NULL for the app's records). Only the staging of the log's front-end reads
-- it; the other yields no rows (macros/inputs.sql, read_log). A third front-end is one more staging
-- model here.
-- The records are read once, in one pass that keeps their order; what needs the whole log (which
-- records repeat an earlier one; where each file starts) is settled afterwards by the post hooks
-- below, which read only narrow columns of the stored table.
select * from {{ ref('stg_app_feedback') }}
union all by name
select * from {{ ref('stg_openwebui_feedback') }}

{#- The post hooks: UPDATEs of the stored table, each a narrow aggregate joined back (a window over
    the rows would sort all their texts, which DuckDB cannot spill within memory_limit at 10M). -#}
{%- set hooks = [] %}
{%- if several_files %}
{%- set per_file_positions %}
update {{ this }} as f
set position = f.ordinal - file_start.first_ordinal + 1
from (select source_file, min(ordinal) as first_ordinal from {{ this }} group by source_file) as file_start
where f.source_file = file_start.source_file
{%- endset %}
{%- set _ = hooks.append(per_file_positions) %}
{%- endif %}
{%- set mark_repeats %}
-- A valid record whose feedback_id an earlier record has (valid or not) is a duplicate.
update {{ this }} as f
set reason = 'duplicate',
    detail = 'repeats record ' || r.first_position || if(r.first_file = f.source_file, '', ' of ' || r.first_file)
             || if(f.feedback_id = {{ content_id('f') }}, ' (same content)', ' (same id)')
from (
    select
        feedback_id,
        min(ordinal) as first_ordinal,
        arg_min(position, ordinal) as first_position,
        arg_min(source_file, ordinal) as first_file
    from {{ this }}
    -- grouped by the ids' 64-bit hashes first: 10M of those fit in memory_limit, 10M ids do not
    where hash(feedback_id) in (select hash(feedback_id) from {{ this }} group by all having count(*) > 1)
    group by feedback_id
    having count(*) > 1
) as r
where f.feedback_id = r.feedback_id and f.ordinal > r.first_ordinal and f.reason is null
{%- endset %}
{%- set _ = hooks.append(mark_repeats) %}
{{ config(post_hook=hooks) }}
