"""One assessment from labels, predictions, optional scores and sensitive features.

Shared by the training run (``stages.assess_stage``), the model-agnostic ``audit`` command
and the framework callbacks (``integrations.session``), so all write the same evidence.

Fairness is computed per distinct group setting: the primary table (``assessment.fairness``)
uses the settings most of the policy's fairness rules share and covers every declared
feature and every intersection a rule asks for; a rule whose own settings (minimum group
size, share cut-off, unknown handling, favourable label, bootstrap) differ gets its own
tables in ``assessment.fairness_by_rule``, so one rule's settings never change another's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from ..errors import DataError, UsageError
from ..evidence import AssessmentEvidence, FeatureFairness
from ..policy.schema import ResolvedPolicy
from .fairness import INTERSECTION_SEP, feature_fairness, group_label, intersect
from .performance import CALIBRATION_BINS, performance


@dataclass(frozen=True)
class FairnessSettings:
    """How groups are formed and measured for one set of fairness tables.

    ``features`` None: every declared feature. ``intersections``: also the cross of every
    declared feature (2+); ``crosses``: further intersections, each a tuple of 2+ features.
    ``favourable_label`` None: the assessment's."""

    min_group_size: int = 30
    exclude_below_share: float | None = None
    n_boot: int = 0
    intersections: bool = False
    exclude_unknown: bool = False
    seed: int = 0
    ci_level: float = 0.95
    favourable_label: str | None = None
    features: tuple[str, ...] | None = None
    crosses: tuple[tuple[str, ...], ...] = ()

    def key(self, label: str | None) -> tuple:
        """What changes a table's figures (features and intersections only choose tables)."""
        return (self.min_group_size, self.exclude_below_share, self.exclude_unknown,
                self.favourable_label or label, self.n_boot, self.ci_level if self.n_boot else None, self.seed)


@dataclass(frozen=True)
class FairnessPlan:
    """The primary table's settings and each fairness rule's own (rule id -> settings)."""

    primary: FairnessSettings = field(default_factory=FairnessSettings)
    rules: dict[str, FairnessSettings] = field(default_factory=dict)


def rule_settings(rule: Any, *, seed: int = 0, favourable_label: str | None = None) -> FairnessSettings:
    """The settings one fairness rule asks for."""
    p = rule.params
    features = tuple(p.features) if p.features else None
    return FairnessSettings(
        min_group_size=p.min_group_size, exclude_below_share=p.exclude_below_share, n_boot=p.n_boot,
        exclude_unknown=p.exclude_unknown, seed=seed, ci_level=p.ci_level,
        favourable_label=p.favourable_label or favourable_label, features=features,
        intersections=p.intersections and features is None,
        crosses=(features,) if p.intersections and features else (),
    )


def fairness_plan(policy: ResolvedPolicy, *, seed: int = 0, favourable_label: str | None = None) -> FairnessPlan:
    """Each fairness rule's settings, and the primary table's: the group settings shared by
    the most rules (ties: the first in policy order) on the assessment's ``favourable_label``,
    over every declared feature and every intersection any rule asks for. Rules with other
    settings get their own tables."""
    rules = {r.id: rule_settings(r, seed=seed, favourable_label=favourable_label)
             for r in policy.rules_of("fairness")}
    if not rules:
        return FairnessPlan(primary=FairnessSettings(seed=seed, favourable_label=favourable_label))
    every = list(rules.values())
    keys = [s.key(favourable_label) for s in every]
    chosen = every[max(range(len(keys)), key=lambda i: (keys.count(keys[i]), -i))]
    primary = replace(chosen, features=None, intersections=any(s.intersections for s in every),
                      crosses=tuple(dict.fromkeys(c for s in every for c in s.crosses)),
                      favourable_label=favourable_label or chosen.favourable_label)
    return FairnessPlan(primary=primary, rules=rules)


def resolve_favourable_label(policy: ResolvedPolicy, *, declared: str | None, classes: Sequence[str] | None = None,
                             declared_as: str = "favourable_label in the datasheet") -> str | None:
    """The assessment's favourable label: ``declared`` (the datasheet's, or a command-line
    override), else the first fairness rule's ``favourable_label``. Every fairness rule needs
    one (its own or ``declared``), and with ``classes`` each must be one of them; raises a
    one-line ``UsageError``/``DataError`` otherwise. None when no rule needs one and none is named."""
    for rule in policy.rules_of("fairness"):
        label = rule.params.favourable_label or declared
        if label is None:
            raise UsageError(f"no favourable label for fairness rule '{rule.id}': set {declared_as} or "
                             f"params.favourable_label on the rule (no label is assumed, neither 1 nor the last class)")
        if classes is not None and label not in classes:
            source = "its params.favourable_label" if rule.params.favourable_label else declared_as
            raise DataError(f"fairness rule '{rule.id}': favourable label '{label}' ({source}) is not a label "
                            f"(labels: {', '.join(classes)})")
    if declared is not None and classes is not None and declared not in classes:
        raise DataError(f"{declared_as}: '{declared}' is not a label (labels: {', '.join(classes)})")
    rules = policy.rules_of("fairness")
    return declared or next((r.params.favourable_label for r in rules if r.params.favourable_label), None)


def _tables_for(settings: FairnessSettings, names: list[str]) -> list[tuple[str, ...]]:
    """The tables ``settings`` asks for: single features as 1-tuples, then intersections."""
    features = list(settings.features or names)
    crosses = list(settings.crosses)
    if settings.intersections and len(names) >= 2:
        crosses.insert(0, tuple(names))
    unique: dict[frozenset, tuple[str, ...]] = {}
    for cross in crosses:
        if len(cross) >= 2:
            unique.setdefault(frozenset(cross), tuple(cross))  # the first spelling of each set of features
    return [(f,) for f in features] + list(unique.values())


class _TableMaker:
    """Computes fairness tables, each (settings, features) once."""

    def __init__(self, *, y_true, y_pred, classes, favourable_label, columns, probabilities, scores) -> None:
        self.y_true, self.y_pred, self.classes = y_true, y_pred, classes
        self.favourable, self.columns = favourable_label, columns
        self.probabilities, self.scores = probabilities, scores
        self.cache: dict[tuple, FeatureFairness] = {}

    def _scores(self, label: str):
        """The given scores when they score ``label``, else its class probability, else None."""
        if self.scores is not None and label == self.favourable:
            return self.scores
        if self.probabilities is not None:
            return [row[self.classes.index(label)] for row in self.probabilities]
        return None

    def table(self, settings: FairnessSettings, features: tuple[str, ...]) -> FeatureFairness | None:
        if any(f not in self.columns for f in features):
            return None
        label = settings.favourable_label or self.favourable
        key = (settings.key(self.favourable), frozenset(features))
        if key not in self.cache:
            groups = self.columns[features[0]] if len(features) == 1 else intersect(
                {f: self.columns[f] for f in features})
            self.cache[key] = feature_fairness(
                feature=INTERSECTION_SEP.join(features), groups=groups, y_true=self.y_true, y_pred=self.y_pred,
                favourable_label=label, min_group_size=settings.min_group_size,
                exclude_below_share=settings.exclude_below_share, n_boot=settings.n_boot, seed=settings.seed,
                ci_level=settings.ci_level, exclude_unknown=settings.exclude_unknown, scores=self._scores(label),
                intersection_of=list(features) if len(features) > 1 else ())
        return self.cache[key]

    def tables(self, settings: FairnessSettings) -> list[FeatureFairness]:
        made = (self.table(settings, t) for t in _tables_for(settings, list(self.columns)))
        return [t for t in made if t is not None]


def assess_predictions(
    *,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    classes: list[str],
    favourable_label: str | None,
    groups: dict[str, Sequence[Any]],
    settings: FairnessSettings | FairnessPlan,
    predictions_path: str,
    predictions_sha256: str,
    probabilities: Sequence[Sequence[float]] | None = None,
    scores: Sequence[float] | None = None,
    score_source: str | None = None,
) -> AssessmentEvidence:
    """Performance, and fairness per ``settings`` (a plan: the primary table and per-rule tables).

    ``probabilities`` (one column per class, ``classes`` order) give ROC AUC and calibration;
    scoring rates use ``scores`` (of ``favourable_label``, any scale) when given, else the
    probability of each table's favourable label."""
    plan = settings if isinstance(settings, FairnessPlan) else FairnessPlan(primary=settings)
    if favourable_label is not None and favourable_label not in classes:
        raise ValueError(f"favourable label '{favourable_label}' is not one of the classes {classes}")
    perf = performance(y_true, y_pred, classes=classes, probabilities=probabilities,
                       favourable_label=favourable_label)
    columns = {name: [group_label(v) for v in values] for name, values in groups.items()}
    maker = _TableMaker(y_true=y_true, y_pred=y_pred, classes=classes, favourable_label=favourable_label,
                        columns=columns, probabilities=probabilities, scores=scores)
    primary = plan.primary
    notes = []
    fairness: list[FeatureFairness] = []
    by_rule: dict[str, list[FeatureFairness]] = {}
    if favourable_label is None and not plan.rules:
        notes.append("no favourable label named and no fairness rule: group fairness"
                     + (" and ROC AUC" if probabilities is not None and len(classes) == 2 else "") + " not assessed")
    else:
        fairness = maker.tables(primary)
        primary_key = primary.key(favourable_label)
        by_rule = {rule_id: maker.tables(s) for rule_id, s in plan.rules.items() if s.key(favourable_label) != primary_key}
    if by_rule:
        notes.append("fairness rules with their own group settings (tables in fairness_by_rule): " + ", ".join(by_rule))
    if len(classes) > 2:
        notes.append(f"multiclass: fairness rates are one-vs-rest on the favourable label '{favourable_label}'")
    if probabilities is None:
        notes.append("no class probabilities: ROC AUC and calibration error not computed")
    return AssessmentEvidence(
        test_records=len(y_true), favourable_label=favourable_label, classes=list(classes),
        accuracy=perf.accuracy, balanced_accuracy=perf.balanced_accuracy, f1_macro=perf.f1_macro,
        precision_macro=perf.precision_macro, recall_macro=perf.recall_macro,
        per_class_f1=perf.per_class_f1, per_class_precision=perf.per_class_precision,
        per_class_recall=perf.per_class_recall, confusion_matrix=perf.confusion_matrix,
        roc_auc=perf.roc_auc, expected_calibration_error=perf.expected_calibration_error,
        calibration_bins=CALIBRATION_BINS if perf.expected_calibration_error is not None else None,
        fairness=fairness, fairness_by_rule=by_rule, min_group_size=primary.min_group_size,
        exclude_below_share=primary.exclude_below_share, exclude_unknown=primary.exclude_unknown,
        n_boot=primary.n_boot, ci_level=primary.ci_level if primary.n_boot else None,
        bootstrap_seed=primary.seed if primary.n_boot else None,
        score_source=score_source if (scores is not None or probabilities is not None) else None,
        predictions_path=predictions_path, predictions_sha256=predictions_sha256, notes=notes,
    )


__all__ = ["FairnessPlan", "FairnessSettings", "assess_predictions", "fairness_plan", "resolve_favourable_label",
           "rule_settings"]
