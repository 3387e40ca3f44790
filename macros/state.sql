{#- fbt's state, the tables that outlive a build (engine/state.py keeps them in data/fbt_state.duckdb
    and copies them into schema `state` of each build's database before the models run):
    - review_decisions: feedback_id, decision ('keep' or 'drop'), corrected_output, decided_at, source
      (written by `python cli.py review import FILE`)
    - exported_samples: format, sample_id, build_id, exported_at (every row each format wrote to
      its files, with the build that wrote it; --full-refresh forgets them). After a build, the
      database's copy holds that build's rows too
    Query them after a build: python cli.py query "select * from state.review_decisions" -#}
{% macro state(table) -%}
{{ adapter.dispatch('state')(table) }}
{%- endmacro %}

{% macro default__state(table) -%}
state.{{ quote_identifier(table) }}
{%- endmacro %}

{#- On Spark, the engine registers each state table as a temporary view (engine/spark.py). -#}
{% macro spark__state(table) -%}
{{ quote_identifier('fbt_state__' ~ table) }}
{%- endmacro %}
