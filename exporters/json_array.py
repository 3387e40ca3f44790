"""json: the original script's high_quality_samples.json, an indented array with metadata."""

from .base import Exporter, json_array

FIELDS = ("instruction", "input", "output", "rating", "model_name", "feedback_id", "timestamp")
# LLaMA-Factory reads it as alpaca and ignores the other keys.
DATASET_INFO = {"formatting": "alpaca", "ranking": False,
                "columns": {"prompt": "instruction", "query": "input", "response": "output"}}

EXPORTER = Exporter(
    name="json",
    filename="high_quality_samples.json",
    model_filename="{model}_samples.json",
    fields=FIELDS,
    layout=json_array,
    help="indented JSON array of {instruction, input, output, rating, model_name, feedback_id, timestamp}",
    trainer="any SFT trainer that reads JSON (the original script's format)",
    dataset_info=DATASET_INFO,
)
