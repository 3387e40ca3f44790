{{ config(splits=split_files, unique_key='pair_id') }}
{{ config(export=['dpo_openai']) }}
-- OpenAI's preference fine-tuning form: {"input": {"messages": [system?, user]},
-- "preferred_output": [assistant], "non_preferred_output": [assistant]}.
select
    position,
    pair_id,
    split,
    {'messages': {{ chat_messages('system', 'earlier_turns', 'prompt') }}} as input,
    [{{ chat_message('assistant', 'chosen') }}] as preferred_output,
    [{{ chat_message('assistant', 'rejected') }}] as non_preferred_output
from {{ ref('preference_pairs') }}
