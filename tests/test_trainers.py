"""The files in the real trainers (opt-in: `python -m pytest -m trainers -n 0`, after
`pip install -e '.[trainers]'`): a tiny model built from a config and a tokenizer trained on the
spot (no hub), then TRL's SFT (prompt_completion; openai with assistant_only_loss), DPO and KTO for
two steps each, and every dataset_info.json entry through LLaMA-Factory's own loader for its stage."""

from __future__ import annotations

import json
import math
import os

import pytest
from test_training_formats import PERSONA, known_log

pytestmark = pytest.mark.trainers
trl = pytest.importorskip("trl", reason="the trainers extra is not installed: pip install -e '.[trainers]'")
transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")

TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'assistant' %}<|assistant|>{% generation %}"
            "{{ m['content'] }}<|end|>{% endgeneration %}{% else %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>"
            "{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
SPECIAL = ["<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]


@pytest.fixture(scope="module", autouse=True)
def offline():
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield


@pytest.fixture
def built(project):
    """Every format of the known log, with a persona and history, split."""
    project.write_log([dict(r, id=f"{r['id']}-{i}") for i in range(3) for r in known_log()])
    project.invoke("build", "--format", "openai", "prompt_completion", "sharegpt", "alpaca", "dpo", "dpo_sharegpt", "kto",
                   "kto_sharegpt", "--var", f"system_prompt={PERSONA}", "--var", "with_history=true")
    return project


def tiny(texts: list[str]):
    """A byte-level BPE tokenizer trained on the texts, and a one-layer Llama of random weights."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIAL,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>",
                                                     eos_token="<|end|>", chat_template=TEMPLATE)
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                                      eos_token_id=tokenizer.eos_token_id)
    return tokenizer, transformers.LlamaForCausalLM(config)


def texts_of(folder) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in folder.iterdir() if p.suffix in (".json", ".jsonl")]


def train(trainer_class, config_class, data, tmp_path, tokenizer, model, **options) -> float:
    args = config_class(output_dir=str(tmp_path / trainer_class.__name__), max_steps=2, per_device_train_batch_size=2,
                        report_to=[], use_cpu=True, logging_steps=1, save_strategy="no", **options)
    trainer = trainer_class(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    assert losses and all(math.isfinite(loss) for loss in losses)
    return losses[-1]


def load(folder, name):
    return datasets.load_dataset("json", data_files=str(folder / name), split="train")


def test_trl_trains_every_file_made_for_it(built, tmp_path):
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    kto = pytest.importorskip("trl.experimental.kto") if not hasattr(trl, "KTOTrainer") else trl
    tokenizer, model = tiny(texts_of(built.out))
    out = built.out
    losses = {
        "sft prompt_completion": train(SFTTrainer, SFTConfig, load(out, "prompt_completion_samples.jsonl"),
                                       tmp_path, tokenizer, model),
        "sft openai, assistant_only_loss": train(SFTTrainer, SFTConfig, load(out, "openai_format_samples.jsonl"),
                                                 tmp_path, tokenizer, model, assistant_only_loss=True),
        "dpo": train(DPOTrainer, DPOConfig, load(out, "dpo_pairs.jsonl"), tmp_path, tokenizer, model),
        "kto": train(kto.KTOTrainer, kto.KTOConfig, load(out, "kto_samples.jsonl"), tmp_path, tokenizer, model),
    }
    print(json.dumps(losses))


def test_llamafactory_loads_every_registered_file_for_its_stage(built, tmp_path):
    llamafactory = pytest.importorskip("llamafactory")
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args

    tokenizer, _ = tiny(texts_of(built.out))
    info = json.loads((built.out / "dataset_info.json").read_text(encoding="utf-8"))
    loaded = {}
    for name, entry in info.items():
        stage = "kto" if "kto_tag" in entry["columns"] else "rm" if entry["ranking"] else "sft"
        model_args, data_args, training_args, _, _ = get_train_args({
            "model_name_or_path": str(tmp_path), "stage": stage, "do_train": True, "dataset": name,
            "dataset_dir": str(built.out), "template": "empty", "output_dir": str(tmp_path / "lf"),
            "cutoff_len": 256, "overwrite_cache": True, "report_to": "none", "finetuning_type": "full",
            **({"mask_history": True} if stage == "sft" else {}),
        })
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        module = get_dataset(template, model_args, data_args, training_args, stage, tokenizer=tokenizer)
        loaded[name] = len(module["train_dataset"])
        assert loaded[name] > 0, name
    print(llamafactory.__version__, json.dumps(loaded))
