{#- The records of a log, as each engine reads them: on DuckDB read_log (macros/inputs.sql) reads the
    file with read_json; on Spark the engine reads the log (engine/sparklog.py: JSON arrays or JSON
    lines, .gz, globs) into the temporary view fbt_source__<name>, each record's top-level values as
    their minified JSON texts in a map, with source_file and ordinal, as read_log gives them. -#}
{% macro log_records(source_name, format, fields) -%}
{{ adapter.dispatch('log_records')(source_name, format, fields) }}
{%- endmacro %}

{% macro default__log_records(source_name, format, fields) -%}
{{ read_log(source_name, format, fields) }}
{%- endmacro %}

{% macro spark__log_records(source_name, format, fields) -%}
{%- if log_format(source_name) == format -%}
{%- set _ = source(source_name) -%}
select {% for f in fields %}fields[{{ f | literal }}] as {{ quote_identifier(f) }}, {% endfor %}source_file, ordinal
from {{ quote_identifier('fbt_source__' ~ source_name) }}
{%- else -%}
select {% for f in fields %}null::VARCHAR as {{ quote_identifier(f) }}, {% endfor %}null::VARCHAR as source_file, null::BIGINT as ordinal
where false
{%- endif -%}
{%- endmacro %}
