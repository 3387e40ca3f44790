"""dpo: preference pairs (models/preference_pairs.sql) in three layouts, one exporter each; the
format name `dpo` asks for all three (exporters.GROUPS).

- dpo_trl: TRL's conversational {"prompt": [...], "chosen": [...], "rejected": [...]} JSON lines
- dpo_alpaca: LLaMA-Factory's ranking form, an array of {instruction, input, chosen, rejected[, system]}
- dpo_sharegpt: LLaMA-Factory's ShareGPT ranking form, {"conversations", "chosen", "rejected"[, "system"]}
  (multi-turn: the conversation ends on the user's message)
- dpo_openai: OpenAI's preference JSONL, {"input": {"messages": [...]}, "preferred_output": [...],
  "non_preferred_output": [...]}"""

from .base import Exporter, json_array, json_lines

TRL_FIELDS = ("prompt", "chosen", "rejected")
ALPACA_FIELDS = ("instruction", "input", "chosen", "rejected", "system", "history")
ALPACA_OPTIONAL = ("system", "history")
OPENAI_FIELDS = ("input", "preferred_output", "non_preferred_output")

TRL = Exporter(
    name="dpo_trl",
    filename="dpo_pairs.jsonl",
    model_filename="{model}_dpo_pairs.jsonl",
    fields=TRL_FIELDS,
    layout=json_lines,
    help='JSON lines of {"prompt", "chosen", "rejected"} as message lists (TRL DPOTrainer)',
    trainer="TRL DPOTrainer",
)

ALPACA = Exporter(
    name="dpo_alpaca",
    filename="dpo_pairs_alpaca.json",
    model_filename="{model}_dpo_pairs_alpaca.json",
    fields=ALPACA_FIELDS,
    layout=json_array,
    help="JSON array of {instruction, input, chosen, rejected[, system][, history]} (LLaMA-Factory ranking)",
    trainer="LLaMA-Factory (alpaca, ranking)",
    optional=ALPACA_OPTIONAL,
    dataset_info={"formatting": "alpaca", "ranking": True,
                  "columns": {"prompt": "instruction", "query": "input", "chosen": "chosen",
                              "rejected": "rejected", "system": "system", "history": "history"}},
)

OPENAI = Exporter(
    name="dpo_openai",
    filename="dpo_pairs_openai.jsonl",
    model_filename="{model}_dpo_pairs_openai.jsonl",
    fields=OPENAI_FIELDS,
    layout=json_lines,
    help='JSON lines of {"input": {"messages"}, "preferred_output", "non_preferred_output"} (OpenAI DPO)',
    trainer="OpenAI preference fine-tuning (DPO)",
    min_rows=10,  # OpenAI's fine-tuning refuses files with fewer examples
)

SHAREGPT = Exporter(
    name="dpo_sharegpt",
    filename="dpo_pairs_sharegpt.json",
    model_filename="{model}_dpo_pairs_sharegpt.json",
    fields=("conversations", "chosen", "rejected", "system"),
    layout=json_array,
    help='JSON array of {"conversations", "chosen", "rejected"[, "system"]} (LLaMA-Factory ShareGPT ranking)',
    trainer="LLaMA-Factory (sharegpt, ranking)",
    optional=("system",),
    dataset_info={"formatting": "sharegpt", "ranking": True,
                  "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
                              "system": "system"},
                  "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                           "assistant_tag": "gpt", "system_tag": "system"}},
)
