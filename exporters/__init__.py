"""The export formats, one module each, registered in one dict."""

from __future__ import annotations

import difflib

from engine.errors import ExportError

from . import alpaca, json_array, jsonl
from .base import Exporter, safe_filename

EXPORTERS: dict[str, Exporter] = {e.name: e for e in (json_array.EXPORTER, jsonl.EXPORTER,
                                                       alpaca.EXPORTER)}


class UnknownExporterError(ExportError):
    "An export format name that no exporter has"


def get_exporter(name: str) -> Exporter:
    try:
        return EXPORTERS[name]
    except KeyError:
        hint = difflib.get_close_matches(name, EXPORTERS, n=1)
        raise UnknownExporterError(
            f"Unknown export format '{name}'." + (f" Did you mean '{hint[0]}'?" if hint else "")
            + f" Formats: {', '.join(sorted(EXPORTERS))}") from None


__all__ = ["EXPORTERS", "Exporter", "UnknownExporterError", "get_exporter", "safe_filename"]
