"""alpaca: the Stanford Alpaca / LLaMA-Factory SFT form, {instruction, input, output}."""

from .base import Exporter, json_array_writer

FIELDS = ("instruction", "input", "output")

EXPORTER = Exporter(
    name="alpaca",
    filename="alpaca_format_samples.json",
    model_filename="{model}_alpaca_format.json",
    fields=FIELDS,
    write=json_array_writer(FIELDS),
    help="indented JSON array of {instruction, input, output} (Alpaca, LLaMA-Factory)",
)
