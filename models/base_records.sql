{{ config(role='base', source_records='alpaca') }}
-- Every record of the base training set (--var base_dataset=PATH: an Alpaca JSON array or JSONL
-- file of {"instruction": "...", "input": "...", "output": "..."}), one row each, in its order.
-- Empty when base_dataset is "" (the default).
-- source_records='alpaca': before this is read, fbt stops the build at the first record that is not
-- an Alpaca record, one with neither an "instruction" nor an "output" key (a ShareGPT file, the
-- feedback log), with its record number and the shape expected.
-- position: the record's number in the file, from 1.
-- instruction, input, output: the values as they are in the file (JSON: a text is "...").
-- reason (NULL: the record is merged into the files, as it is) and detail, like the log's:
--   empty_instruction, empty_output: missing, null, not text, or blank (only white space)
--   invalid_input: input is given but is not text (a missing or null input is "")
{% if var('base_dataset') %}
with raw as (
    select *
    from read_json(
        {{ source('base') }},
        format = {{ json_format(var('base_dataset').value) }},
        records = true,
        maximum_object_size = {{ largest_record() }},
        columns = {instruction: 'JSON', input: 'JSON', output: 'JSON'}
    ) with ordinality as base(instruction, input, output, position)
),

texts as (
    -- each value as text, NULL when it is not text
    select
        *,
        {{ json_string('instruction') }} as instruction_text,
        {{ json_string('output') }} as output_text
    from raw
)

select
    position,
    instruction,
    input,
    output,
    case
        when coalesce({{ strip_text('instruction_text') }}, '') = '' then 'empty_instruction'
        when coalesce({{ strip_text('output_text') }}, '') = '' then 'empty_output'
        when input is not null and not {{ is_json_text('input') }} then 'invalid_input'
    end as reason,
    case
        when coalesce({{ strip_text('instruction_text') }}, '') = '' then
            'instruction is ' || if(instruction_text is not null, 'blank', {{ json_kind('instruction') }})
        when coalesce({{ strip_text('output_text') }}, '') = '' then
            'output is ' || if(output_text is not null, 'blank', {{ json_kind('output') }})
        when input is not null and not {{ is_json_text('input') }} then
            'input is ' || {{ json_kind('input') }} || ', not text'
    end as detail
from texts
{% else %}
select
    null::BIGINT as position, null::JSON as instruction, null::JSON as input, null::JSON as output,
    null::VARCHAR as reason, null::VARCHAR as detail
where false
{% endif %}
