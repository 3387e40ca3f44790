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

{#- The post hooks (macros/repeats.sql): what needs the whole log, settled on the stored table. -#}
{%- set hooks = [positions_in_files(this)] if several_files else [] %}
{{ config(post_hook=hooks + [mark_repeats(this)]) }}
