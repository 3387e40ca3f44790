"""What the engine needs from the models, declared by the models themselves with config(role=...):
the engine knows no model by name, so a model may be renamed freely, and a role nobody declares
is an error that names it, never a silent skip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CompileError

if TYPE_CHECKING:
    from .render import Rendered

# role -> what its model holds (and the columns the engine reads of it)
ROLES = {
    "log": "every record of the log, one row each (position: its record number in its file; "
           "source_file, when several files are read)",
    "rejected": "the records that are not valid feedback, with a reason column",
    "valid": "the valid feedback, one row per record, with feedback_id",
    "eligibility": "every valid record, with excluded_by: why it is not a training sample (NULL: it is one)",
    "samples": "the training samples (excluded_by NULL), with feedback_id, rating and model_name",
    "review_queue": "the samples awaiting review, with feedback_id, position and source_file",
    "base": "every record of the base set, one row each (position: its record number in the file)",
    "base_rejected": "the base set's records that are not merged into the files, with a reason column",
    "base_samples": "the base set's records merged into the files",
}


def declared(models: dict[str, Rendered], role: str) -> str:
    """The name of the one model that declares config(role=role)."""
    names = [name for name, model in models.items() if model.config.get("role") == role]
    if len(names) > 1:
        raise CompileError(f"config(role='{role}') is declared by {' and '.join(names)}; keep it in one model")
    if not names:
        raise CompileError(f"No model declares config(role='{role}'), {ROLES[role]}; the engine needs "
                           f"it for the accounting and review: add it to that model's config()")
    return names[0]
