"""jsonl: the same objects as json, one per line."""

from .base import Exporter, json_lines
from .json_array import DATASET_INFO, FIELDS

EXPORTER = Exporter(
    name="jsonl",
    filename="high_quality_samples.jsonl",
    model_filename="{model}_samples.jsonl",
    fields=FIELDS,
    layout=json_lines,
    help="JSON lines, one {instruction, input, output, rating, model_name, feedback_id, timestamp} each",
    trainer="any SFT trainer that reads JSON lines (the original script's format)",
    dataset_info=DATASET_INFO,
)
