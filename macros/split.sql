{#- The train/validation split. A key (the session, so that one conversation never lands in both)
    is hashed with md5, which is the same on every machine and DuckDB version (DuckDB's hash() is not),
    to a number in [0, 1); below val_ratio is validation. The first 8 hex digits of md5(key) as an
    integer equal Python's int(hashlib.md5(key.encode()).hexdigest()[:8], 16). -#}
{% macro stable_unit(key) -%}
({{ adapter.dispatch('hex_number')('substr(md5(' ~ key ~ '), 1, 8)') }} / 4294967296.0)
{%- endmacro %}

{#- A text of hex digits (at most 15) as the number it spells. -#}
{% macro default__hex_number(hex) -%}
('0x' || {{ hex }})::UBIGINT
{%- endmacro %}

{% macro spark__hex_number(hex) -%}
conv({{ hex }}, 16, 10)::BIGINT
{%- endmacro %}

{#- 'train' or 'val' ('train' for all when val_ratio is 0: no hashing then). -#}
{% macro split_of(key, val_ratio) -%}
{%- if val_ratio -%}
(case when {{ stable_unit(key) }} < {{ val_ratio }} then 'val' else 'train' end)
{%- else -%}
'train'
{%- endif -%}
{%- endmacro %}

{#- The files an exported model is written to: one per split (<file>_train, <file>_val) when
    val_ratio > 0, else one. Every exported model declares config(splits=split_files). -#}
{% set split_files = ['train', 'val'] if var('val_ratio') else [] %}
