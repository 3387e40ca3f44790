{{ config(materialized='view') }}
-- Every valid record, with the filter that keeps it out of the training set (NULL = a sample).
-- Add a filter as another WHEN: the build's accounting counts each excluded_by value.
-- A view, in log order without a sort: selecting from one table keeps its row order in DuckDB.
select
    *,
    case
        when rating < {{ var('min_rating') }} then 'below_min_rating'
        when {{ var('model_name') }} <> '' and model_name <> {{ var('model_name') }} then 'other_model'
    end as excluded_by
from {{ ref('stg_feedback') }}
