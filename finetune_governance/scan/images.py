"""Scan an ImageFolder dataset's file names and EXIF metadata, and plan (or write) its redaction.

``scan_image_folder(root, params, ...)`` returns a ``ScanEvidence`` (one record per image,
``by_field`` counts per field and entity type, masked previews with image indices only)
and an ``ImageRedactionPlan``: per image, the file name to write and whether to strip its
metadata. On redact, every image with a metadata finding whose action changes data is
written without EXIF, JPEG comment or XMP, and a file name with PII is renamed to a keyed
hash of the name (HMAC-SHA256, first 16 hex digits) or, without a key, to the image index.
The class folder names are the labels: they are written into the reports and the model, so
they are scanned as the label column (``ScanEvidence.columns``, role ``label``) and PII there
blocks the run, as in a table's label column (rename the folders). Pixels are not scanned:
faces or text inside an image are a stated limitation.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..evidence import EntitySummary, FieldSummary, MaskedPreview, ResidualSummary, ScanEvidence
from ..policy.schema import PiiParams
from .columns import CLASS_FOLDER_COLUMN, ColumnValues, allowed_in_columns, scan_columns
from .imagemeta import METADATA_ENTITIES, ImageField, list_images, read_fields
from .pii import MAX_PREVIEWS, mask_value, to_hits
from .redact import TEXT_ACTIONS

#: images read per batch (bounded memory for large folders)
CHUNK_IMAGES = 2_000
LIMITATION_PIXELS = "image pixels not scanned (faces, text in the picture); only file names and EXIF metadata"


@dataclass(frozen=True)
class ImageAction:
    """What redaction does to one image: write ``source`` as ``class_name/target_name``."""

    image: int
    source: Path
    class_name: str
    target_name: str
    strip_metadata: bool


@dataclass(frozen=True)
class ImageRedactionPlan:
    """Per image, its redacted name and whether its metadata is stripped; ``blocked``: write nothing."""

    actions: tuple[ImageAction, ...]
    blocked: tuple[str, ...] = ()

    @property
    def changed(self) -> int:
        """Images whose name or metadata redaction changes."""
        return sum(a.strip_metadata or a.target_name != a.source.name for a in self.actions)


class _Counts:
    """Counts, images and previews per entity type and per field; images arrive in order."""

    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.images: dict[str, int] = defaultdict(int)
        self.last: dict[tuple[str, ...], int] = {}
        self.field_count: dict[tuple[str, str], int] = defaultdict(int)
        self.field_images: dict[tuple[str, str], int] = defaultdict(int)
        self.previews: dict[str, list[MaskedPreview]] = defaultdict(list)
        self.types: dict[int, set[str]] = defaultdict(set)

    def add(self, field: ImageField, entity: str, value: str, score: float) -> None:
        self.types[field.image].add(entity)
        self.count[entity] += 1
        self.field_count[(field.field, entity)] += 1
        if self.last.get((entity,)) != field.image:
            self.last[(entity,)] = field.image
            self.images[entity] += 1
        if self.last.get((field.field, entity)) != field.image:
            self.last[(field.field, entity)] = field.image
            self.field_images[(field.field, entity)] += 1
        if len(self.previews[entity]) < MAX_PREVIEWS:
            self.previews[entity].append(MaskedPreview(record=field.image, preview=mask_value(value), score=round(score, 3)))


def _hashed_name(stem: str, suffix: str, index: int, hash_key: bytes | None) -> str:
    if hash_key:
        return hmac.new(hash_key, stem.encode("utf-8"), hashlib.sha256).hexdigest()[:16] + suffix
    return f"image-{index:06d}{suffix}"


def _scan_images(images, params: PiiParams, scanner, wanted_meta, hash_key):
    """Counts per entity and field, the per-image actions, and the number of unreadable images."""
    def action_for(entity: str) -> str:
        return params.actions.get(entity, params.default_action)

    counts, actions, unreadable = _Counts(), [], 0
    for first in range(0, len(images), CHUNK_IMAGES):
        batch = images[first : first + CHUNK_IMAGES]
        fields = [f for i, (path, _) in enumerate(batch) for f in read_fields(path, first + i)]
        texts = [f for f in fields if f.kind == "text"]
        rename, strip = set(), set()
        for field, hits in zip(texts, to_hits(scanner.scan([f.value for f in texts]))):
            for hit in hits:
                counts.add(field, hit.entity_type, field.value[hit.start : hit.end], hit.score)
                if action_for(hit.entity_type) in TEXT_ACTIONS:
                    (rename if field.field == "file_name" else strip).add(field.image)
        for field in fields:
            if field.kind == "unreadable":
                unreadable += 1
            elif field.kind in wanted_meta:
                counts.add(field, field.kind, field.value, 1.0)
                if action_for(field.kind) in TEXT_ACTIONS:
                    strip.add(field.image)
        for i, (path, cls) in enumerate(batch):
            index = first + i
            name = _hashed_name(path.stem, path.suffix, index, hash_key) if index in rename else path.name
            actions.append(ImageAction(index, path, cls, name, index in strip))
    return counts, actions, unreadable


def scan_image_folder(
    root: Path,
    params: PiiParams,
    *,
    hash_key: bytes | None = None,
    redact_to: Path | None = None,
    workers: int = 1,
    analyzer_and_info=None,
    plugins: tuple[str, ...] = (),
) -> tuple[ScanEvidence, ImageRedactionPlan]:
    """Scan the images under ``root/<class>/`` and plan their redaction (written to ``redact_to`` if given).

    With ``redact_to``, the written folder is scanned again: images that still hold a
    finding of a type the policy does not allow are the residual. Raises ``DataError``
    for a missing folder or one without images.
    """
    from .engine import cached_analyzer
    from .plan import plan_entities
    from .scanner import Scanner, ScanSettings

    started = time.perf_counter()
    images = _require_images(Path(root))
    analyzer, info = analyzer_and_info or cached_analyzer(recognizers=params.recognizers, countries=params.countries,
                                                          plugins=plugins)
    plan = plan_entities(params, info)
    wanted_meta = [e for e in METADATA_ENTITIES if params.entities is None or e in params.entities]

    def action_for(entity: str) -> str:
        return params.actions.get(entity, params.default_action)

    settings = ScanSettings.of_policy(params, plan.entities)
    with Scanner(analyzer, settings, workers=workers) as scanner:
        counts, actions, unreadable = _scan_images(images, params, scanner, wanted_meta, hash_key)
        class_folders = scan_columns([ColumnValues(CLASS_FOLDER_COLUMN, "label", [cls for _, cls in images])], scanner,
                                     allowed=allowed_in_columns(params.actions), threshold_for=params.threshold_for)
        summaries = [
            EntitySummary(entity_type=e, action=action_for(e), count=counts.count[e], records=counts.images[e],
                          record_rate=round(counts.images[e] / len(images), 6),
                          score_threshold=None if e in METADATA_ENTITIES else params.threshold_for(e),
                          previews=counts.previews[e])
            for e in sorted(counts.count, key=lambda e: (-counts.count[e], e))
        ]
        blocked = tuple(s.entity_type for s in summaries if s.action == "block")
        redaction = ImageRedactionPlan(actions=tuple(actions), blocked=blocked)
        limitations = list(plan.limitations) + [LIMITATION_PIXELS]
        if unreadable:
            limitations.append(f"{unreadable} image(s) could not be opened: only their file names were scanned")
        residual = None
        if redact_to is not None and blocked:
            limitations.append("redacted output not written: the policy blocks entity types that were found")
        elif redact_to is not None:
            write_redacted(redaction, Path(redact_to))
            again, _, _ = _scan_images(list_images(Path(redact_to)), params, scanner, wanted_meta, hash_key)
            allowed = {e for e in again.count if action_for(e) == "allow"}
            left = [i for i, kinds in again.types.items() if kinds - allowed]
            by_entity = {e: again.images[e] for e in sorted(again.count) if e not in allowed}
            residual = ResidualSummary(records=len(left), rate=round(len(left) / len(images), 6), by_entity=by_entity)
    evidence = ScanEvidence(
        column="image:file_name+exif",
        records_scanned=len(images),
        unique_texts=len({p.stem for p, _ in images}),
        spacy_model=info.spacy_model,
        presidio_version=info.presidio_version,
        entities_scanned=sorted(set(plan.entities) | set(wanted_meta)),
        score_threshold=params.score_threshold,
        limitations=limitations,
        entities=summaries,
        by_field=[FieldSummary(field=f, entity_type=e, count=c, records=counts.field_images[(f, e)])
                  for (f, e), c in sorted(counts.field_count.items())],
        records_with_pii=len(counts.types),
        blocked_entities=list(blocked),
        residual=residual,
        seconds=round(time.perf_counter() - started, 3),
        columns=class_folders,
    )
    return evidence, redaction


def _require_images(root: Path) -> list[tuple[Path, str]]:
    if not root.is_dir():
        raise DataError(f"{root}: not a folder; an image dataset is a folder of class folders (ImageFolder)")
    images = list_images(root)
    if not images:
        raise DataError(f"{root}: no images found; expected <root>/<class>/<image> (.jpg, .png, ...)")
    return images


def write_redacted(plan: ImageRedactionPlan, out_root: Path) -> None:
    """Write every image of ``plan`` under ``out_root/<class>/``: renamed and metadata-stripped as planned."""
    import shutil

    from PIL import Image

    if plan.blocked:
        raise DataError(f"{out_root}: not written; the policy blocks {', '.join(plan.blocked)} found in the images")
    for action in plan.actions:
        target = Path(out_root) / action.class_name / action.target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise DataError(f"{target}: already exists; --redact-to must be a new or empty folder")
        if not action.strip_metadata:
            shutil.copyfile(action.source, target)
            continue
        with Image.open(action.source) as img:
            options = {"exif": b"", "comment": b"", "xmp": b""}
            if img.format == "JPEG":
                options["quality"] = "keep"
            clean = img if img.format == "JPEG" else img.copy()
            if clean is not img:
                clean.info = {}
            clean.save(target, format=img.format, **options)
