{#- Sensitive content, masked in every text a build exports (var redact, on by default). Each rule
    is (placeholder, RE2 pattern); a match becomes the placeholder. Rules run in this order, so that
    an e-mail address is not read as digits and an 18-digit ID card number is not taken for a bank
    card. Patterns are Jinja strings: write a backslash twice (\\b is a word boundary). The build
    summary counts the placeholders each rule added (models/loop_figures.sql). -#}
{% set redaction_rules = [
    ('[EMAIL]',     '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}'),
    ('[ID_CARD]',   '\\b[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]\\b'),
    ('[BANK_CARD]', '\\b([1-9][0-9]{15,18}|[1-9][0-9]{3}([ -][0-9]{4}){3}([ -][0-9]{1,3})?)\\b'),
    ('[PHONE]',     '([+]?\\b86[ -]?|\\b)1[3-9][0-9]([ -]?[0-9]{4}){2}\\b'),
    ('[PHONE]',     '\\b0[1-9][0-9]{1,2}-[0-9]{7,8}\\b'),
] %}

{#- The placeholders, each once: what the summary counts. -#}
{% set redaction_placeholders = redaction_rules | map('first') | unique | list %}

{#- expr with every rule applied (or as it is, with --var redact=false). -#}
{% macro redact(expr) -%}
{%- if var('redact') -%}
{%- set ns = namespace(sql=expr) -%}
{%- for placeholder, pattern in redaction_rules -%}
{%- set ns.sql = 'regexp_replace(' ~ ns.sql ~ ', ' ~ (regex(pattern) | literal) ~ ', ' ~ (placeholder | literal) ~ ", 'g')" -%}
{%- endfor -%}
{#- A text no rule matches (most) stays as it is: one match of all patterns at once is much faster
    than the replacements in a row. -#}
{%- set any_rule = namespace(patterns=[]) -%}
{%- for placeholder, pattern in redaction_rules -%}
{%- set any_rule.patterns = any_rule.patterns + ['(' ~ regex(pattern) ~ ')'] -%}
{%- endfor -%}
case when regexp_matches({{ expr }}, {{ any_rule.patterns | join('|') | literal }}) then {{ ns.sql }} else {{ expr }} end
{%- else -%}
{{ expr }}
{%- endif -%}
{%- endmacro %}

{#- How many times placeholder occurs in a text. -#}
{% macro count_placeholder(expr, placeholder) -%}
((length({{ expr }}) - length(replace({{ expr }}, {{ placeholder | literal }}, ''))) // {{ placeholder | length }})
{%- endmacro %}
