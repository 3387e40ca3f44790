{#- Text rules shared by the models. Edit here and every model that calls them follows. -#}

{#- The 29 characters for which Python's str.isspace() is true: what the original script's
    str.strip() removed (\t \n \v \f \r, FS GS RS US, space, NEL, NBSP, ogham space, the
    U+2000 spaces, line and paragraph separators, narrow NBSP, math space, ideographic space). -#}
{% set whitespace_codes = [9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, 8192, 8193, 8194, 8195,
                           8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288] %}
{#- As one text literal (the characters themselves, not chr(n): Spark's chr() wraps above 255). -#}
{% macro whitespace() -%}
{{ whitespace_codes | map('char') | join | literal }}
{%- endmacro %}

{#- The same characters as an RE2 character class. -#}
{% macro whitespace_class() -%}
[{% for code in whitespace_codes %}{{ '\\x{%x}' | format(code) }}{% endfor %}]
{%- endmacro %}

{#- Any character but those, as an RE2 character class. -#}
{% macro not_whitespace_class() -%}
[^{% for code in whitespace_codes %}{{ '\\x{%x}' | format(code) }}{% endfor %}]
{%- endmacro %}

{#- Strip leading and trailing white space like Python's str.strip(). Only texts that start or end
    with white space are trimmed: trimming with a character list is the slow part. The test is two
    anchored regexps: RE2 matches one anchored at the end backwards from the end, so neither reads
    the whole text (right(x, 1) does: it counts characters). -#}
{% macro strip_text(expr) -%}
(case when regexp_matches({{ expr }}, '^{{ whitespace_class() }}') or regexp_matches({{ expr }}, '{{ whitespace_class() }}$')
      then trim({{ expr }}, {{ whitespace() }}) else {{ expr }} end)
{%- endmacro %}

{#- Is a JSON value a string? read_json stores values minified, so a string is one that starts
    with a quote: a test of one byte, where json_type() parses the whole value. -#}
{% macro is_json_text(expr) -%}
starts_with({{ expr }}::VARCHAR, '"')
{%- endmacro %}

{#- A JSON value that must be text (a prompt, a reply): the string, or NULL for anything else. -#}
{% macro json_string(expr) -%}
(case when {{ is_json_text(expr) }} then {{ expr }} ->> '$' end)
{%- endmacro %}

{#- The JSON value at a path of a JSON text (a record's data, meta, params), as JSON text: what
    DuckDB's `->` gives; NULL when there is none. -#}
{% macro json_at(expr, path) -%}
{{ adapter.dispatch('json_at')(expr, path) }}
{%- endmacro %}

{% macro default__json_at(expr, path) -%}
({{ expr }} -> {{ path | literal }})
{%- endmacro %}

{#- Spark has no JSON type, and its get_json_object gives a text without its quotes (json_string
    could not tell "5" from 5): a text, or a JSON null, is written back as JSON by to_json from the
    value parsed as a VARIANT; anything else is get_json_object's text, which keeps a number as
    written (a VARIANT writes 1.0 as 1). -#}
{% macro spark__json_at(expr, path) -%}
{%- set value = 'try_variant_get(try_parse_json(' ~ expr ~ '), ' ~ (path | literal) ~ ')' -%}
(case when schema_of_variant({{ value }}) in ('STRING', 'VOID') then to_json({{ value }})
      else get_json_object({{ expr }}, {{ path | literal }}) end)
{%- endmacro %}

{#- A JSON value used as a label (an id, a model name, a timestamp): a string as it is; a number or
    boolean as its JSON text; NULL when null or missing. -#}
{% macro json_label(expr) -%}
(case when {{ is_json_text(expr) }} then {{ expr }} ->> '$' else {{ expr }}::VARCHAR end)
{%- endmacro %}

{#- Why a JSON value is not text, for rejection details: 'missing or null', 'a number', ...
    (read_json reads a null and a missing key both as NULL; `case x when null` never matches). The
    kind is told from the first character of the minified JSON text, as on every engine (Spark has
    no json_type). -#}
{% macro json_kind(expr) -%}
(case when {{ expr }} is null then 'missing or null' else case left({{ expr }}::VARCHAR, 1)
    when '"' then 'text' when 't' then 'a boolean' when 'f' then 'a boolean' when '[' then 'an array'
    when '{' then 'an object' when 'n' then 'null'
    else 'a number' end end)
{%- endmacro %}

{#- Does the whole text match an RE2 pattern? (regexp_full_match is DuckDB's own; anchored with \z,
    which RE2 and Java read alike, where Java's $ also matches before a final line break.) -#}
{% macro full_match(expr, pattern) -%}
regexp_matches({{ expr }}, {{ ('^(?:' ~ pattern ~ ')\\z') | literal }})
{%- endmacro %}

{#- A regular expression for the target's engine, written as RE2 reads it (DuckDB). Java (Spark)
    counts CJK letters as word characters in \b, so `电话13912345678` would keep its number there:
    on Spark each \b becomes RE2's ASCII word boundary spelt with lookarounds, which Java has. -#}
{% macro regex(pattern) -%}
{{ adapter.dispatch('regex')(pattern) }}
{%- endmacro %}

{% macro default__regex(pattern) -%}
{{ pattern }}
{%- endmacro %}

{% macro spark__regex(pattern) -%}
{{ pattern | replace('\\b', '(?:(?<![0-9A-Za-z_])(?=[0-9A-Za-z_])|(?<=[0-9A-Za-z_])(?![0-9A-Za-z_]))') }}
{%- endmacro %}
