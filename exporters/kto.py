"""kto: TRL's unpaired preference form, {"prompt": [...], "completion": [...], "label": true|false}
one per line; label is a JSON boolean (true: rating >= kto_good, false: rating <= kto_bad)."""

from .base import Exporter, json_lines

FIELDS = ("prompt", "completion", "label")

EXPORTER = Exporter(
    name="kto",
    filename="kto_samples.jsonl",
    model_filename="{model}_kto_samples.jsonl",
    fields=FIELDS,
    layout=json_lines,
    help='JSON lines of {"prompt", "completion", "label": true|false} (TRL KTOTrainer)',
)
