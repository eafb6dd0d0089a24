"""Report fixtures (defined in report_data.py): a key pair and one real tiny run shared by every report test."""

from tests.report.report_data import real_run, scoring_audit, signing_keys  # noqa: F401
