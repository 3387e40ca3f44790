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
