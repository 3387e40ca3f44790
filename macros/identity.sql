{#- The feedback_id of a record that has no id of its own: the md5 of its content (stripped texts,
    parsed rating), the same on every run and machine. `alias` qualifies the columns. -#}
{% macro content_id(alias=none) -%}
{%- set c = (alias ~ '.') if alias else '' -%}
md5(to_json([{{ c }}session_id, {{ c }}timestamp, {{ c }}model_name, {{ c }}user_input, {{ c }}model_response,
             coalesce({{ c }}rating::VARCHAR, {{ c }}rating_json)]))
{%- endmacro %}
