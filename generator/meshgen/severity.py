"""How serious a message is: one scale for Helm's lint messages and validation findings.

It imports nothing of meshgen, so the lowest layers (the Helm backends) and the highest
(validation, reports) share it without an import against the layer order.
"""

from __future__ import annotations

import enum


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]
