{#- How read_json reads a log (or base set) path, from its name: *.jsonl / *.ndjson (optionally .gz)
    one record per line, *.json (optionally .gz) a JSON array, anything else (a glob like logs/*)
    whatever each file is. DuckDB decompresses .gz by itself. -#}
{% macro json_format(path) -%}
{%- set name = path | lower -%}
{%- if name.endswith(('.jsonl', '.jsonl.gz', '.ndjson', '.ndjson.gz')) -%}'newline_delimited'
{%- elif name.endswith(('.json', '.json.gz')) -%}'array'
{%- else -%}'auto'
{%- endif -%}
{%- endmacro %}

{#- The largest record read_json takes, in bytes: DuckDB's default (16 MiB) at first. A log holding a
    larger record (a 200 MB reply) is read again with room for it: the engine raises the limit, up
    to the file's size, and builds the model again, so texts of any length build. -#}
{% macro largest_record() -%}
{{ read_limits.record_bytes }}
{%- endmacro %}

{#- The records of a log source (source_name, e.g. 'feedback') as read_json reads them, one row each:
    the given top-level fields as JSON (so no dirty value can fail the read; `types` may name
    another type for a field, as macros/openwebui.sql does), source_file, and
    ordinal (the record number in the whole log, from 1). When the log is not in `format` (the
    front-end that wrote it, told by the engine from its first record, or var log_format), the same
    columns with no rows and no read: each staging model reads only the log of its own front-end.
    When the log only grew since the last build, the engine gives the document of its new records
    (log_tail, engine/tail.py): they are read as if they were read in the log, their records
    numbered on and named as the log. -#}
{% macro read_log(source_name, format, fields, types={}) -%}
{%- if log_format(source_name) == format -%}
{%- set path = source(source_name) -%}
{%- set tail = log_tail(source_name) -%}
select *{% if tail %} replace ({{ path }} as source_file, ordinal + {{ tail.records_before }} as ordinal){% endif %}
from read_json(
    {{ tail.path if tail else path }},
    format = {{ json_format(path[1:-1]) }},
    records = true,
    filename = true,
    maximum_object_size = {{ largest_record() }},
    columns = { {%- for f in fields %}{{ quote_identifier(f) }}: {{ literal(types.get(f, 'JSON')) }}{{ ', ' if not loop.last }}{% endfor -%} }
) with ordinality as log({% for f in fields %}{{ quote_identifier(f) }}, {% endfor %}source_file, ordinal)
{%- else -%}
select {% for f in fields %}null::{{ types.get(f, 'JSON') }} as {{ quote_identifier(f) }}, {% endfor %}null::VARCHAR as source_file, null::BIGINT as ordinal
where false
{%- endif -%}
{%- endmacro %}
