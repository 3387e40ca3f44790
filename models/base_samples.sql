-- The base training set the model was first trained on (--var base_dataset=PATH: an Alpaca JSON
-- array or JSONL file of {instruction, input, output}), as it is, in its order. The files of a build
-- hold these first, then the new samples; a new sample that repeats one of these (the same
-- instruction and output under macros/normalize.sql) is left out as duplicate_of_base.
-- position: its record number in the base set minus the size of the set (so 0 or less: the files
-- put the base set before every new sample). Empty when base_dataset is "" (the default).
{% if var('base_dataset') %}
with raw as (
    select *
    from read_json(
        {{ source('base') }},
        format = {{ json_format(var('base_dataset').value) }},
        records = true,
        columns = {instruction: 'JSON', input: 'JSON', output: 'JSON'}
    ) with ordinality as base(instruction, input, output, position)
)
select
    position - count(*) over () as position,
    coalesce({{ json_string('instruction') }}, '') as instruction,
    coalesce({{ json_string('input') }}, '') as input,
    coalesce({{ json_string('output') }}, '') as output,
    {{ normalize_text(json_string('instruction')) }} as same_prompt,
    {{ normalize_text(json_string('output')) }} as same_output
from raw
{% else %}
select
    null::BIGINT as position, '' as instruction, '' as input, '' as output,
    '' as same_prompt, '' as same_output
where false
{% endif %}
