{{ config(role='base_rejected') }}
-- The base set's quarantine: every record of the base set that is not merged into the files, with
-- its record number in the file, a reason code and a detail a person can act on, and its values as
-- they are in the file (JSON). Base records read = merged (base_samples) + rejected, always.
select position, reason, detail, instruction, input, output
from {{ ref('base_records') }}
where reason is not null
