{#- Text rules shared by the models. Edit here and every model that calls them follows. -#}

{#- The 29 characters for which Python's str.isspace() is true: what the original script's
    str.strip() removed (\t \n \v \f \r, FS GS RS US, space, NEL, NBSP, ogham space, the
    U+2000 spaces, line and paragraph separators, narrow NBSP, math space, ideographic space). -#}
{% macro whitespace() -%}
(chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(28) || chr(29) || chr(30) || chr(31) || chr(32) || chr(133) || chr(160) || chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) || chr(8197) || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) || chr(8232) || chr(8233) || chr(8239) || chr(8287) || chr(12288))
{%- endmacro %}

{#- Strip leading and trailing white space like Python's str.strip(). Only texts that start or end
    with white space are trimmed: trimming with a character list is the slow part. -#}
{% macro strip_text(expr) -%}
(case when contains({{ whitespace() }}, left({{ expr }}, 1)) or contains({{ whitespace() }}, right({{ expr }}, 1))
      then trim({{ expr }}, {{ whitespace() }}) else {{ expr }} end)
{%- endmacro %}

{#- A JSON value that must be text (a prompt, a reply): the string, or NULL for anything else. -#}
{% macro json_string(expr) -%}
(case when json_type({{ expr }}) = 'VARCHAR' then {{ expr }} ->> '$' end)
{%- endmacro %}

{#- A JSON value used as a label (an id, a model name, a timestamp): a string as it is; a number or
    boolean as its JSON text; NULL when null or missing. -#}
{% macro json_label(expr) -%}
(case when json_type({{ expr }}) = 'VARCHAR' then {{ expr }} ->> '$' else {{ expr }}::VARCHAR end)
{%- endmacro %}

{#- Why a JSON value is not text, for rejection details: 'missing or null', 'a number', ... -#}
{% macro json_kind(expr) -%}
(case json_type({{ expr }})
    when 'VARCHAR' then 'text' when 'BOOLEAN' then 'a boolean' when 'ARRAY' then 'an array'
    when 'OBJECT' then 'an object' when 'NULL' then 'null' when null then 'missing or null'
    else 'a number' end)
{%- endmacro %}
