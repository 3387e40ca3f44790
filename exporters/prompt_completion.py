"""prompt_completion: TRL's conversational prompt-completion form, {"prompt": [...], "completion":
[assistant]} one per line. SFTTrainer trains the completion only (completion_only_loss), so the
system prompt and earlier turns in the prompt are context, never a target."""

from .base import Exporter, json_lines

FIELDS = ("prompt", "completion")

EXPORTER = Exporter(
    name="prompt_completion",
    filename="prompt_completion_samples.jsonl",
    model_filename="{model}_prompt_completion.jsonl",
    fields=FIELDS,
    layout=json_lines,
    help='JSON lines of {"prompt": [messages], "completion": [assistant]} (TRL SFTTrainer, only the reply trained)',
    trainer="TRL SFTTrainer (prompt-completion)",
)
