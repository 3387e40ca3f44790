{#- Generic data tests, named in a model's config(tests={column: [test, ...]}). Each returns the
    failing rows: a test passes when its query returns none. A test of each row on its own reads
    new_rows(model): the rows this build adds to the model's table. That is every row, unless the
    build adds the log's new records' rows to the last build's, whose rows passed this same test;
    then only the added rows (engine/datatest.py). -#}

{% macro test_not_null(model, column) -%}
select * from {{ new_rows(model) }} where {{ column }} is null
{%- endmacro %}

{#- (The values are grouped by their 64-bit hashes first: narrow keys, so 10M of them fit in
    memory_limit; only the values whose hash repeats are then grouped themselves. When the old rows
    passed, only a value of the added rows can repeat.) -#}
{% macro test_unique(model, column) -%}
select {{ column }}, count(*) as occurrences from {{ model }}
where {{ column }} is not null
{%- if is_incremental(model) %}
  and {{ column }} in (select {{ column }} from {{ new_rows(model) }})
{%- else %}
  and hash({{ column }}) in (select hash({{ column }}) from {{ model }} group by all having count(*) > 1)
{%- endif %}
group by {{ column }} having count(*) > 1
{%- endmacro %}

{% macro test_accepted_values(model, column, values) -%}
select * from {{ new_rows(model) }} where {{ column }} not in ({{ values | map('literal') | join(', ') }})
{%- endmacro %}

{#- Empty: NULL, '' or only white space, as str.strip() has it (macros/text.sql). The test is "has
    no character that is not white space": RE2 stops at the first letter, as fast as ltrim() without
    a character list (which strips only ' '); ltrim() with the list is ~10x slower. -#}
{% macro test_not_empty(model, column) -%}
select * from {{ new_rows(model) }}
where not regexp_matches(coalesce({{ column }}::VARCHAR, ''), '{{ not_whitespace_class() }}')
{%- endmacro %}
