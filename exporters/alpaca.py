"""alpaca: the Stanford Alpaca / LLaMA-Factory SFT form, {instruction, input, output}."""

from .base import Exporter, json_array

FIELDS = ("instruction", "input", "output")

EXPORTER = Exporter(
    name="alpaca",
    filename="alpaca_format_samples.json",
    model_filename="{model}_alpaca_format.json",
    fields=FIELDS,
    layout=json_array(FIELDS),
    help="indented JSON array of {instruction, input, output} (Alpaca, LLaMA-Factory)",
)
