{#- The train/validation split. A key (the session, so that one conversation never lands in both)
    is hashed with md5, which is the same on every machine and DuckDB version (DuckDB's hash() is not),
    to a number in [0, 1); below val_ratio is validation. The first 8 hex digits of md5(key) as an
    integer equal Python's int(hashlib.md5(key.encode()).hexdigest()[:8], 16). -#}
{% macro stable_unit(key) -%}
(('0x' || substr(md5({{ key }}), 1, 8))::UBIGINT / 4294967296.0)
{%- endmacro %}

{% macro split_of(key, val_ratio) -%}
(case when {{ stable_unit(key) }} < {{ val_ratio }} then 'val' else 'train' end)
{%- endmacro %}
