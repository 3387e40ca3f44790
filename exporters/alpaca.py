"""alpaca: the Stanford Alpaca / LLaMA-Factory SFT form, {instruction, input, output}, plus "system"
when var system_prompt is set and "history" ([[instruction, response], ...]) with var with_history."""

from .base import Exporter, json_array

FIELDS = ("instruction", "input", "output", "system", "history")
OPTIONAL = ("system", "history")

EXPORTER = Exporter(
    name="alpaca",
    filename="alpaca_format_samples.json",
    model_filename="{model}_alpaca_format.json",
    fields=FIELDS,
    layout=json_array,
    help="indented JSON array of {instruction, input, output[, system][, history]} (Alpaca, LLaMA-Factory)",
    trainer="LLaMA-Factory (alpaca)",
    optional=OPTIONAL,
    dataset_info={"formatting": "alpaca", "ranking": False,
                  "columns": {"prompt": "instruction", "query": "input", "response": "output",
                              "system": "system", "history": "history"}},
)
