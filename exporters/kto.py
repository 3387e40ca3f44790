"""kto: unpaired preference rows, a JSON boolean saying whether the reply is desirable (true: a good
answer rated >= kto_good, false: a bad one rated <= kto_bad), in two layouts:

- kto: TRL's {"prompt": [...], "completion": [...], "label": true|false}, one per line (KTOTrainer)
- kto_sharegpt: LLaMA-Factory's {"messages": [...], "kto_tag": true|false}, an array (stage: kto;
  registered in dataset_info.json with its kto_tag column)"""

from .base import Exporter, json_array, json_lines
from .openai import OPENAI_TAGS

FIELDS = ("prompt", "completion", "label")

EXPORTER = Exporter(
    name="kto",
    filename="kto_samples.jsonl",
    model_filename="{model}_kto_samples.jsonl",
    fields=FIELDS,
    layout=json_lines,
    help='JSON lines of {"prompt", "completion", "label": true|false} (TRL KTOTrainer)',
    trainer="TRL KTOTrainer",
)

SHAREGPT = Exporter(
    name="kto_sharegpt",
    filename="kto_sharegpt_samples.json",
    model_filename="{model}_kto_sharegpt.json",
    fields=("messages", "kto_tag"),
    layout=json_array,
    help='JSON array of {"messages": [...], "kto_tag": true|false} (LLaMA-Factory stage: kto)',
    trainer="LLaMA-Factory (stage: kto)",
    dataset_info={"formatting": "sharegpt", "ranking": False,
                  "columns": {"messages": "messages", "kto_tag": "kto_tag"}, "tags": OPENAI_TAGS},
)
