"""json: the original script's high_quality_samples.json, an indented array with metadata."""

from .base import Exporter, json_array

FIELDS = ("instruction", "input", "output", "rating", "model_name", "feedback_id", "timestamp")

EXPORTER = Exporter(
    name="json",
    filename="high_quality_samples.json",
    model_filename="{model}_samples.json",
    fields=FIELDS,
    layout=json_array(FIELDS),
    help="indented JSON array of {instruction, input, output, rating, model_name, feedback_id, timestamp}",
)
