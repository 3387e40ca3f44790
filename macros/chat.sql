{#- Chat messages for the conversational formats. A turn is {'user': ..., 'assistant': ...};
    style 'openai' writes {"role": "user"|"assistant"|"system", "content": ...} (OpenAI, TRL),
    style 'sharegpt' writes {"from": "human"|"gpt", "value": ...} (LLaMA-Factory ShareGPT). -#}

{% macro chat_message(role, content, style='openai') -%}
{%- set sharegpt_roles = {'user': 'human', 'assistant': 'gpt', 'system': 'system'} -%}
{%- if style == 'sharegpt' -%}
{'from': '{{ sharegpt_roles[role] }}', 'value': {{ content }}}
{%- elif style == 'weighted' -%}
{{ adapter.dispatch('json_message')({'role': "'" ~ role ~ "'", 'content': content}) }}
{%- else -%}
{'role': '{{ role }}', 'content': {{ content }}}
{%- endif -%}
{%- endmacro %}

{#- An earlier assistant turn: context, never a target. Style 'weighted' (openai with history)
    marks it with OpenAI's "weight": 0; the other styles cannot say so (README, History). -#}
{% macro context_message(content, style='openai') -%}
{%- if style == 'weighted' -%}
{{ adapter.dispatch('json_message')({'role': "'assistant'", 'content': content, 'weight': '0'}) }}
{%- else -%}
{{ chat_message('assistant', content, style) }}
{%- endif -%}
{%- endmacro %}

{#- The messages of a conversation as one list, in order: the system prompt (when system is given and
    its value is not NULL), the earlier turns (when turns is given: a list of {'user', 'assistant'}
    structs), then the user's message and, when given, the assistant's. Pass system=none for
    formats that carry the system prompt apart from the messages (ShareGPT). -#}
{% macro chat_messages(system, turns, user, assistant=none, style='openai') -%}
{%- set parts = [] -%}
{%- if system is not none -%}
{%- set _ = parts.append('case when ' ~ system ~ ' is null then [] else [' ~ chat_message('system', system, style) ~ '] end') -%}
{%- endif -%}
{%- if turns is not none -%}
{%- set _ = parts.append('flatten(list_transform(' ~ turns ~ ', lambda turn: [' ~ chat_message('user', 'turn.user', style)
                    ~ ', ' ~ context_message('turn.assistant', style) ~ ']))') -%}
{%- endif -%}
{%- set _ = parts.append('[' ~ chat_message('user', user, style) ~ ((', ' ~ chat_message('assistant', assistant, style)) if assistant is not none else '') ~ ']') -%}
({{ parts | join('\n    || ') }})
{%- endmacro %}

{#- The system prompt the model is served with (var system_prompt), stripped; NULL when empty, so the
    formats that carry one leave it out. -#}
{% macro system_prompt() -%}
nullif({{ strip_text(var('system_prompt')) }}, '')
{%- endmacro %}

{#- The history of each row of `rows` (a relation with feedback_id, session_id, timestamp and
    position): the earlier turns of its chat as a list of {'user', 'assistant'}, oldest first, one
    row per feedback_id that has any; texts are redacted, and a turn whose reply was dropped in
    review (in no file at all) is left out.
    - The app's log holds only the rated turns: a turn is earlier when it has the same session_id
      (not empty) and an earlier timestamp (ties: earlier in the log); turns without a timestamp are
      never history, nor given any. The turns are the replies the user saw, whatever their rating.
    - Open WebUI's export holds the whole chat (stg_openwebui_feedback's history, from its snapshot):
      the chain from the chat's first message to the prompt, unrated turns included. -#}
{% macro session_history(rows) -%}
select
    r.feedback_id,
    {{ ordered_list("{'user': " ~ redact('h.user_input') ~ ", 'assistant': " ~ redact('h.model_response') ~ "}",
                    ['h.timestamp', 'h.position']) }} as turns
from {{ rows }} as r
join {{ ref('training_candidates') }} as h
    on h.session_id = r.session_id
    and (h.timestamp < r.timestamp or (h.timestamp = r.timestamp and h.position < r.position))
where r.session_id <> '' and r.timestamp <> '' and h.timestamp <> ''
    and coalesce(h.decision, '') <> 'drop'
    and h.history is null  -- the app's log
group by r.feedback_id
union all
select
    c.feedback_id,
    list_transform(
        list_filter(c.history, lambda t: t.user <> '' and t.assistant <> ''
                    and not list_contains(coalesce(d.dropped, []), t.message_id)),
        lambda t: {'user': {{ redact('t.user') }}, 'assistant': {{ redact('t.assistant') }}}) as turns
from {{ rows }} as r
join {{ ref('training_candidates') }} as c on c.feedback_id = r.feedback_id and c.history is not null
left join (
    select session_id, list(message_id) as dropped
    from {{ ref('training_candidates') }}
    where decision = 'drop' and message_id is not null
    group by session_id
) as d on d.session_id = c.session_id
{%- endmacro %}

{#- The aggregate list of value over a group, in the order of the keys (list(... order by ...) on
    DuckDB; Spark's collect_list keeps no order, so there the values are sorted by their keys). -#}
{% macro ordered_list(value, keys) -%}
{{ adapter.dispatch('ordered_list')(value, keys) }}
{%- endmacro %}

{% macro default__ordered_list(value, keys) -%}
list({{ value }} order by {{ keys | join(', ') }})
{%- endmacro %}

{% macro spark__ordered_list(value, keys) -%}
list_transform(list_sort(list({ {%- for key in keys %}'k{{ loop.index }}': {{ key }}, {% endfor %}'v': {{ value }}})), lambda x: x.v)
{%- endmacro %}

{#- A message as a JSON object (its keys and SQL values in order), for lists whose messages have
    different keys (an earlier turn's weight). Spark has no JSON type: there it is the object's JSON
    text, which the engine casts to DuckDB's JSON with the rest of the model's rows. -#}
{% macro default__json_message(fields) -%}
json_object({% for key, value in fields.items() %}'{{ key }}', {{ value }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__json_message(fields) -%}
to_json({ {%- for key, value in fields.items() %}'{{ key }}': {{ value }}{{ ', ' if not loop.last }}{% endfor -%} })
{%- endmacro %}
