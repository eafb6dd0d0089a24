"""The modules of a model that own trainable parameters."""

from __future__ import annotations

from typing import Iterator


def trainable_modules(model) -> Iterator[tuple[str, object, list]]:
    """``(name, module, its own parameters that require gradients)`` for each module owning
    at least one (parameters of sub-modules are their own modules')."""
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if own:
            yield name, module, own
