{{ config(role='base_samples', tests={'instruction': ['not_empty'], 'output': ['not_empty'],
                                      'input': ['not_null']}) }}
-- The base samples: the records of the base training set (base_records) that are merged into the
-- files, as they are, in their order; the rejected ones are in rejected_base. The files of a build
-- hold these first, then the new samples; a new sample that repeats one of these (the same
-- instruction and output under macros/normalize.sql) is left out as duplicate_of_base.
-- position: its record number in the base set minus the size of the set (so 0 or less: the files
-- put the base set before every new sample).
select
    position - (select count(*) from {{ ref('base_records') }}) as position,
    {{ json_string('instruction') }} as instruction,
    coalesce({{ json_string('input') }}, '') as input,
    {{ json_string('output') }} as output,
    {{ normalize_text(json_string('instruction')) }} as same_prompt,
    {{ normalize_text(json_string('output')) }} as same_output
from {{ ref('base_records') }}
where reason is null
