{#- Chat messages for the conversational formats. A turn is {'user': ..., 'assistant': ...};
    style 'openai' writes {"role": "user"|"assistant"|"system", "content": ...} (OpenAI, TRL),
    style 'sharegpt' writes {"from": "human"|"gpt", "value": ...} (LLaMA-Factory ShareGPT). -#}

{% macro chat_message(role, content, style='openai') -%}
{%- set sharegpt_roles = {'user': 'human', 'assistant': 'gpt', 'system': 'system'} -%}
{%- if style == 'sharegpt' -%}
{'from': '{{ sharegpt_roles[role] }}', 'value': {{ content }}}
{%- elif style == 'weighted' -%}
json_object('role', '{{ role }}', 'content', {{ content }})
{%- else -%}
{'role': '{{ role }}', 'content': {{ content }}}
{%- endif -%}
{%- endmacro %}

{#- An earlier assistant turn: context, never a target. Style 'weighted' (openai with history)
    marks it with OpenAI's "weight": 0; the other styles cannot say so (README, History). -#}
{% macro context_message(content, style='openai') -%}
{%- if style == 'weighted' -%}
json_object('role', 'assistant', 'content', {{ content }}, 'weight', 0)
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
    position): the earlier turns of its chat session as a list of {'user', 'assistant'}, in
    timestamp order, one row per feedback_id that has any. A turn is earlier when it has the same
    session_id (not empty) and an earlier timestamp (ties: earlier in the log); turns without a
    timestamp are never history, nor given any. The turns are the replies the user saw, whatever
    their rating, except those dropped in review (in no file at all); texts are redacted. -#}
{% macro session_history(rows) -%}
select
    r.feedback_id,
    list({'user': {{ redact('h.user_input') }}, 'assistant': {{ redact('h.model_response') }}}
         order by h.timestamp, h.position) as turns
from {{ rows }} as r
join {{ ref('training_candidates') }} as h
    on h.session_id = r.session_id
    and (h.timestamp < r.timestamp or (h.timestamp = r.timestamp and h.position < r.position))
where r.session_id <> '' and r.timestamp <> '' and h.timestamp <> ''
    and coalesce(h.decision, '') <> 'drop'
group by r.feedback_id
{%- endmacro %}
