"""finetune-governance: a governed, evidence-producing fine-tune.

Public entry points live in :mod:`finetune_governance.api`; the command line in
:mod:`finetune_governance.cli`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
