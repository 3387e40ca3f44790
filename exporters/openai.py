"""openai: OpenAI's chat fine-tuning JSONL, {"messages": [{"role": "system"|"user"|"assistant",
"content": ...}]} one per line. LLaMA-Factory reads it too, as sharegpt with role/content tags."""

from .base import Exporter, json_lines

FIELDS = ("messages",)

# The tags LLaMA-Factory needs to read role/content messages (as its docs register OpenAI's form).
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user",
               "assistant_tag": "assistant", "system_tag": "system"}

EXPORTER = Exporter(
    name="openai",
    filename="openai_format_samples.jsonl",
    model_filename="{model}_openai_format.jsonl",
    fields=FIELDS,
    layout=json_lines,
    help='JSON lines of {"messages": [{"role", "content"}, ...]} (OpenAI chat fine-tuning)',
    trainer="TRL SFTTrainer, Axolotl, LLaMA-Factory (OpenAI chat format)",
    min_rows=10,  # OpenAI's fine-tuning refuses files with fewer examples
    dataset_info={"formatting": "sharegpt", "ranking": False, "columns": {"messages": "messages"},
                  "tags": OPENAI_TAGS},
)
