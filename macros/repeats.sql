{#- feedback_log's post hooks: what needs the whole log, settled once its records are stored. On
    DuckDB each is an UPDATE of the stored table, a narrow aggregate joined back (a window over the
    rows would sort all their texts, which DuckDB cannot spill within memory_limit at 10M). Plain
    Spark tables have no UPDATE: there a hook is a SELECT of the table's new rows, and the engine
    puts it in the table's place (engine/spark.py). -#}

{#- With several files (a glob), each record's position in its own file. -#}
{% macro positions_in_files(this) -%}
{{ adapter.dispatch('positions_in_files')(this) }}
{%- endmacro %}

{% macro default__positions_in_files(this) -%}
update {{ this }} as f
set position = f.ordinal - file_start.first_ordinal + 1
from (select source_file, min(ordinal) as first_ordinal from {{ this }} group by source_file) as file_start
where f.source_file = file_start.source_file
{%- endmacro %}

{% macro spark__positions_in_files(this) -%}
select f.* exclude (position), f.ordinal - file_start.first_ordinal + 1 as position
from {{ this }} as f
join (select source_file, min(ordinal) as first_ordinal from {{ this }} group by source_file) as file_start
    on f.source_file = file_start.source_file
{%- endmacro %}

{#- A valid record whose feedback_id an earlier record has (valid or not) is a duplicate. -#}
{% macro mark_repeats(this) -%}
{{ adapter.dispatch('mark_repeats')(this) }}
{%- endmacro %}

{% macro _repeat_detail() -%}
'repeats record ' || r.first_position || if(r.first_file = f.source_file, '', ' of ' || r.first_file)
    || if(f.feedback_id = {{ content_id('f') }}, ' (same content)', ' (same id)')
{%- endmacro %}

{% macro _first_records(this, narrow=true) -%}
select
    feedback_id,
    min(ordinal) as first_ordinal,
    arg_min(position, ordinal) as first_position,
    arg_min(source_file, ordinal) as first_file
from {{ this }}
{%- if is_incremental() %}
-- a build that adds records to the log: only their ids can repeat an earlier record's (an earlier
-- record's mark stands: a record is a repeat of the records before it, never of later ones)
where feedback_id in (select feedback_id from {{ new_rows(this) }})
{%- elif narrow %}
-- grouped by the ids' 64-bit hashes first: 10M of those fit in memory_limit, 10M ids do not
where hash(feedback_id) in (select hash(feedback_id) from {{ this }} group by all having count(*) > 1)
{%- endif %}
group by feedback_id
having count(*) > 1
{%- endmacro %}

{% macro default__mark_repeats(this) -%}
update {{ this }} as f
set reason = 'duplicate',
    detail = {{ _repeat_detail() }}
from (
{{ _first_records(this) }}
) as r
where f.feedback_id = r.feedback_id and f.ordinal > r.first_ordinal and f.reason is null
{%- endmacro %}

{#- (Spark's hash() is 32 bits: no narrowing by it; Spark shuffles the ids themselves.) -#}
{% macro spark__mark_repeats(this) -%}
select
    f.* exclude (reason, detail),
    if(r.feedback_id is null, f.reason, 'duplicate') as reason,
    if(r.feedback_id is null, f.detail, {{ _repeat_detail() }}) as detail
from {{ this }} as f
left join (
{{ _first_records(this, narrow=false) }}
) as r on f.feedback_id = r.feedback_id and f.ordinal > r.first_ordinal and f.reason is null
{%- endmacro %}
