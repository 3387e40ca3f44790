{{ config(
    materialized='view',
    export=['json', 'jsonl', 'alpaca'],
    tests={
        'feedback_id': ['not_null', 'unique'],
        'rating': [{'accepted_values': {'values': [1, 2, 3, 4, 5]}}],
        'instruction': ['not_empty'],
        'output': ['not_empty'],
    }
) }}
-- The training set: one sample per rated reply that passed every filter, in log order.
-- A view, in log order without a sort: selecting from one table keeps its row order in DuckDB.
select
    user_input as instruction,
    '' as input,
    model_response as output,
    rating,
    model_name,
    feedback_id,
    timestamp,
    position
from {{ ref('training_candidates') }}
where excluded_by is null
