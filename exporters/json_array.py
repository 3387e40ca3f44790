"""json: the original script's high_quality_samples.json, an indented array with metadata."""

from .base import Exporter, json_array_writer

FIELDS = ("instruction", "input", "output", "rating", "model_name", "feedback_id", "timestamp")

EXPORTER = Exporter(
    name="json",
    filename="high_quality_samples.json",
    model_filename="{model}_samples.json",
    fields=FIELDS,
    write=json_array_writer(FIELDS),
    help="indented JSON array of {instruction, input, output, rating, model_name, feedback_id, timestamp}",
)
