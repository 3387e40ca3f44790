{#- The rating rule: an integer 1-5. 5, 5.0, "5", "5.0" and " 5 " mean 5; null, a missing key, 4.5,
    0, 6, true, [5], {"v": 5} and "five" are not ratings. -#}

{#- The rating as an INTEGER 1-5, or NULL when the JSON value is not a rating. -#}
{#- A JSON number's text casts to DOUBLE as it is (no JSON parse); true, [5] and {"v": 5} do not cast.
    (No IN lists: DuckDB plans `x in (1, 2, 3, 4, 5)` as a join, which costs more than the read.) -#}
{% macro parse_rating(expr) -%}
(case
    when {{ is_json_text(expr) }} then (case
        when {{ full_match(strip_text(expr ~ " ->> '$'"), '[+]?[0-9]+(\\.[0-9]*)?') }}
            then {{ _rating_from_number('try_cast(' ~ strip_text(expr ~ " ->> '$'") ~ ' AS DOUBLE)') }} end)
    else {{ _rating_from_number('try_cast(' ~ expr ~ '::VARCHAR AS DOUBLE)') }}
end)
{%- endmacro %}

{% macro _rating_from_number(number) -%}
(case when {{ number }} between 1 and 5 and {{ number }} = trunc({{ number }}) then {{ number }}::INTEGER end)
{%- endmacro %}
