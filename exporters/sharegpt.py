"""sharegpt: LLaMA-Factory's ShareGPT form, {"conversations": [{"from": "human", "value": ...},
{"from": "gpt", "value": ...}], "system": ...}; "system" only when var system_prompt is set."""

from .base import Exporter, json_array

FIELDS = ("conversations", "system")
OPTIONAL = ("system",)

EXPORTER = Exporter(
    name="sharegpt",
    filename="sharegpt_format_samples.json",
    model_filename="{model}_sharegpt_format.json",
    fields=FIELDS,
    layout=json_array,
    help='JSON array of {"conversations": [{"from", "value"}, ...][, "system"]} (LLaMA-Factory ShareGPT)',
    trainer="LLaMA-Factory (sharegpt)",
    optional=OPTIONAL,
    dataset_info={"formatting": "sharegpt", "ranking": False,
                  "columns": {"messages": "conversations", "system": "system"},
                  "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                           "assistant_tag": "gpt", "system_tag": "system"}},
)
