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
