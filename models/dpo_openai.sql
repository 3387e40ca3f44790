{{ config(materialized='view') }}  {#- only non-default formats and reports read it: a default build need not compute it #}
{{ config(export=['dpo_openai']) }}
-- OpenAI's preference fine-tuning form: {"input": {"messages": [system?, user]},
-- "preferred_output": [assistant], "non_preferred_output": [assistant]}.
select
    position,
    {'messages': {{ chat_messages('system', none, 'prompt') }}} as input,
    [{{ chat_message('assistant', 'chosen') }}] as preferred_output,
    [{{ chat_message('assistant', 'rejected') }}] as non_preferred_output
from {{ ref('preference_pairs') }}
