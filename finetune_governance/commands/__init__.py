"""Command-line commands beyond ``run``, one module each."""
