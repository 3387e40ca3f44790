"""The export formats, one module each, registered in one dict."""

from __future__ import annotations

import difflib

from . import alpaca, dpo, json_array, jsonl, kto, openai, prompt_completion, sharegpt
from .base import Exporter, safe_filename

EXPORTERS: dict[str, Exporter] = {e.name: e for e in (json_array.EXPORTER, jsonl.EXPORTER,
                                                       alpaca.EXPORTER, sharegpt.EXPORTER,
                                                       openai.EXPORTER, prompt_completion.EXPORTER, dpo.TRL, dpo.ALPACA,
                                                       dpo.OPENAI, dpo.SHAREGPT, kto.EXPORTER, kto.SHAREGPT)}

# A format name that stands for several exporters: `--format dpo` writes every layout of the pairs.
GROUPS: dict[str, tuple[str, ...]] = {"dpo": ("dpo_trl", "dpo_alpaca", "dpo_openai")}

FORMAT_NAMES = sorted([*EXPORTERS, *GROUPS])


class UnknownExporterError(LookupError):
    "An export format name that no exporter has (the engine says where it was asked for)"


def expand_formats(names: list[str]) -> list[str]:
    """Format names with each group replaced by its members, first mention kept.

    >>> expand_formats(["json", "dpo", "dpo_trl"])
    ['json', 'dpo_trl', 'dpo_alpaca', 'dpo_openai']
    """
    return list(dict.fromkeys(member for name in names for member in GROUPS.get(name, (name,))))


def get_exporter(name: str) -> Exporter:
    try:
        return EXPORTERS[name]
    except KeyError:
        hint = difflib.get_close_matches(name, FORMAT_NAMES, n=1)
        raise UnknownExporterError(
            f"Unknown export format '{name}'." + (f" Did you mean '{hint[0]}'?" if hint else "")
            + f" Formats: {', '.join(FORMAT_NAMES)}") from None


__all__ = ["EXPORTERS", "FORMAT_NAMES", "GROUPS", "Exporter", "UnknownExporterError", "expand_formats",
           "get_exporter", "safe_filename"]
