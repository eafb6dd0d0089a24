"""Benchmark the PII scan: plain Presidio versus ``scan_texts``, same process, same records.

Generates (seeded) support tickets with planted PII and ground-truth spans
(examples/support_tickets/generate.py), then runs

  (a) plain Presidio as a user writes it: ``AnalyzerEngine(nlp_engine=<same spaCy model>)``
      plus the policy's custom recognizers, ``analyze(text, entities=...)`` per record;
  (b) our scanner (``finetune_governance.scan.scan_texts``) with the same entities.

Precision, recall and F2 per entity type and overall: a prediction is correct when it
overlaps a planted span of the same type; predictions of types that were not planted are
false positives (listed per type: the "before/after" of the false-positive rules).

``--ner-gate-check`` runs the full NER over every distinct segment of the corpus and
counts the entities of the segments the NER gate skips (``scan/nergate.py``), split into
those inside a structured hit (dropped by the scanner anyway) and the rest (lost).

``--save-spans PATH`` writes our scanner's spans (record, offsets, type, score; no text)
and ``--compare-spans PATH`` reports how they differ from a saved set: the check that a
speed measure left the results unchanged (run the same command on the previous commit
with ``--save-spans`` first).

``--stream-records N`` instead writes an N-record CSV in chunks and scans it streaming
(bounded memory), reporting records/s and peak RSS; with ``--stream-columns`` it runs
``scan_file`` (what ``governed-finetune scan`` runs: every column, redaction and re-scan).
The last line printed is JSON.

    python bench/scan_bench.py --records 2000
    python bench/scan_bench.py --stream-records 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "support_tickets"))

from generate import generate  # noqa: E402

from finetune_governance.policy import load_policy  # noqa: E402
from finetune_governance.scan.secrets import SECRET_ENTITIES  # noqa: E402


def peak_rss_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mib": round(own, 1), "largest_child_mib": round(children, 1)}


def _load() -> list[float]:
    """The 1-, 5- and 15-minute load averages (other jobs on the machine skew the ratio)."""
    return [round(x, 2) for x in os.getloadavg()]


def pii_params(policy: str):
    rules = load_policy(policy).rules_of("pii")
    return rules[0].params


def plain_presidio(model: str, params):
    """Presidio as its README shows, with the same spaCy model and the policy's recognizers."""
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from finetune_governance.scan.engine import configure_tldextract_offline

    configure_tldextract_offline()
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    for spec in params.recognizers:
        analyzer.registry.add_recognizer(PatternRecognizer(
            supported_entity=spec.entity, patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns] or None,
            deny_list=list(spec.deny_list) or None, context=list(spec.context) or None))
    return analyzer


def score(predicted: list[list[tuple[int, int, str]]], truth: list[dict], n: int) -> dict:
    """Overlap-matched precision, recall and F2, per entity type and overall (micro)."""
    gold: list[list[tuple[int, int, str]]] = [[] for _ in range(n)]
    for span in truth:
        if span["record"] < n:
            gold[span["record"]].append((span["start"], span["end"], span["entity_type"]))
    planted = {t for spans in gold for _, _, t in spans}
    tp_p, fp, tp_r, fn = (defaultdict(int) for _ in range(4))
    for preds, golds in zip(predicted, gold):
        for s, e, t in preds:
            hit = any(t == gt and s < ge and gs < e for gs, ge, gt in golds)
            (tp_p if hit else fp)[t] += 1
        for gs, ge, gt in golds:
            found = any(t == gt and s < ge and gs < e for s, e, t in preds)
            (tp_r if found else fn)[gt] += 1

    def prf(tpp: int, fpp: int, tpr: int, fnn: int) -> dict:
        p = tpp / (tpp + fpp) if tpp + fpp else 1.0
        r = tpr / (tpr + fnn) if tpr + fnn else 1.0
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f2": round(f2, 4)}

    per = {t: prf(tp_p[t], fp[t], tp_r[t], fn[t]) | {"planted": tp_r[t] + fn[t]} for t in sorted(planted)}
    overall = prf(sum(tp_p.values()), sum(fp.values()), sum(tp_r.values()), sum(fn.values()))
    other = {t: c for t, c in sorted(fp.items()) if t not in planted}
    return {"overall": overall, "per_entity": per, "false_positives_of_unplanted_types": other}


def _planted_by_record(truth: list[dict]) -> dict[int, list[tuple[int, int, str]]]:
    planted: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for span in truth:
        planted[span["record"]].append((span["start"], span["end"], span["entity_type"]))
    return planted


def compare_spans(before: list[list[list]], after: list[list[list]], truth: list[dict]) -> dict:
    """Spans added and removed per entity type, and how many removed spans hit a planted one."""
    planted = _planted_by_record(truth)
    added, removed, rescored, removed_planted = defaultdict(int), defaultdict(int), 0, 0
    for record, (old, new) in enumerate(zip(before, after)):
        old_keys, new_keys = {tuple(s[:3]) for s in old}, {tuple(s[:3]) for s in new}
        for s, e, t in new_keys - old_keys:
            added[t] += 1
        for s, e, t in old_keys - new_keys:
            removed[t] += 1
            removed_planted += any(t == pt and s < pe and ps < e for ps, pe, pt in planted[record])
        rescored += len({tuple(x) for x in old} ^ {tuple(x) for x in new}) - len(old_keys ^ new_keys)
    return {"records": min(len(before), len(after)), "identical": not added and not removed and not rescored
            and len(before) == len(after), "added": dict(added), "removed": dict(removed),
            "removed_overlapping_planted": removed_planted, "score_changed": rescored}


def ner_missed(plain: list[list[tuple[int, int, str]]], ours: list[list[tuple[int, int, str]]], truth: list[dict]) -> dict:
    """Plain Presidio's PERSON/LOCATION/NRP spans that no span of ours overlaps, and how many were planted."""
    planted = _planted_by_record(truth)
    missed, missed_planted = defaultdict(int), 0
    for record, (theirs, mine) in enumerate(zip(plain, ours)):
        for s, e, t in theirs:
            if t in ("PERSON", "LOCATION", "NRP") and not any(s < me and ms < e for ms, me, _ in mine):
                missed[t] += 1
                missed_planted += any(t == pt and s < pe and ps < e for ps, pe, pt in planted[record])
    return {"by_type": dict(missed), "of_them_planted": missed_planted}


def run_compare(args) -> dict:
    from finetune_governance.scan import build_analyzer, scan_texts

    load_before = _load()
    records, spans = generate(args.records, seed=args.seed, pii_rate=args.pii_rate)
    texts = [r["text"] for r in records]
    params = pii_params(args.policy)
    t0 = time.perf_counter()
    ours, info = build_analyzer(recognizers=params.recognizers, countries=params.countries)
    build_ours = time.perf_counter() - t0
    entities = [e for e in (params.entities or info.supported_entities) if params.actions.get(e, params.default_action) != "allow"]
    # like for like: plain Presidio has no secrets recognizer (--with-secrets adds ours, as a run scans them)
    entities = set(entities) | {r.entity for r in params.recognizers}
    entities = sorted(entities | set(SECRET_ENTITIES) if args.with_secrets else entities - set(SECRET_ENTITIES))
    t0 = time.perf_counter()
    plain = plain_presidio(info.spacy_model, params)
    build_plain = time.perf_counter() - t0
    plain_entities = [e for e in entities if e in plain.get_supported_entities("en")]

    plain.analyze(texts[0], language="en", entities=plain_entities)  # warm-up
    n_plain = min(len(texts), args.plain_records or len(texts))
    t0 = time.perf_counter()
    plain_pred = [[(r.start, r.end, r.entity_type) for r in
                   plain.analyze(text=t, language="en", entities=plain_entities, score_threshold=params.score_threshold)]
                  for t in texts[:n_plain]]
    plain_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    hits = scan_texts(texts, analyzer=ours, entities=entities, score_threshold=params.score_threshold,
                      workers=args.workers)
    ours_s = time.perf_counter() - t0
    ours_pred = [[(h.start, h.end, h.entity_type) for h in rh] for rh in hits]
    plain_rps, ours_rps = n_plain / plain_s, len(texts) / ours_s
    ours_spans = [[[h.start, h.end, h.entity_type, round(h.score, 4)] for h in rh] for rh in hits]
    extra = {}
    if args.save_spans:
        Path(args.save_spans).write_text(json.dumps(ours_spans), encoding="utf-8")
    if args.compare_spans:
        before = json.loads(Path(args.compare_spans).read_text(encoding="utf-8"))
        extra["spans_vs_saved"] = compare_spans(before, ours_spans, spans)
    return extra | {
        "bench": "scan", "records": len(texts), "plain_records": n_plain, "seed": args.seed,
        "pii_rate": args.pii_rate, "policy": args.policy, "spacy_model": info.spacy_model,
        "workers": args.workers, "entities": entities, "with_secrets": args.with_secrets, "score_threshold": params.score_threshold,
        "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": _load(),
        "build_seconds": {"plain": round(build_plain, 2), "ours": round(build_ours, 2)},
        "records_per_second": {"plain": round(plain_rps, 1), "ours": round(ours_rps, 1)},
        "speedup": round(ours_rps / plain_rps, 2),
        "plain": score(plain_pred, spans, n_plain),
        "ours": score(ours_pred, spans, len(texts)),
        "ours_on_plain_records": score(ours_pred[:n_plain], spans, n_plain),
        "plain_ner_spans_ours_misses": ner_missed(plain_pred, ours_pred[:n_plain], spans),
        "peak_memory": peak_rss_mib(),
    }


def run_gate_check(args) -> dict:
    """Entities the full NER finds in the segments the NER gate skips."""
    from finetune_governance.scan import build_analyzer
    from finetune_governance.scan.engine import NER_MAPPING
    from finetune_governance.scan.nergate import needs_ner
    from finetune_governance.scan.scanner import ScanSettings, analyse_segments
    from finetune_governance.scan.segments import split_segments

    records, _ = generate(args.records, seed=args.seed, pii_rate=args.pii_rate)
    params = pii_params(args.policy)
    analyzer, info = build_analyzer(recognizers=params.recognizers, countries=params.countries)
    segments = list(dict.fromkeys(s for r in records for _, s in split_segments(r["text"])))
    skipped = [s for s in segments if not needs_ner(s)]
    nlp = analyzer.nlp_engine.nlp["en"]
    settings = ScanSettings(entities=tuple(info.supported_entities), score_threshold=params.score_threshold)
    structured = analyse_segments(analyzer, skipped, settings)
    inside = lost = 0
    for doc, spans in zip(nlp.pipe(skipped, batch_size=256), structured):
        for ent in doc.ents:
            if NER_MAPPING.get(ent.label_) not in ("PERSON", "LOCATION", "NRP"):
                continue
            if any(s <= ent.start_char and ent.end_char <= e for s, e, t, _ in spans if t not in ("PERSON", "LOCATION", "NRP")):
                inside += 1
            else:
                lost += 1
    return {"bench": "ner-gate", "records": len(records), "distinct_segments": len(segments),
            "segments_skipped": len(skipped), "ner_entities_in_skipped": inside + lost,
            "inside_structured_hits": inside, "lost": lost}


def write_corpus(path: Path, n: int, *, seed: int, pii_rate: float, chunk: int = 50_000) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = None
        for index, first in enumerate(range(0, n, chunk)):
            records, _ = generate(min(chunk, n - first), seed=seed + index, pii_rate=pii_rate)
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(records[0]), lineterminator="\n")
                writer.writeheader()
            writer.writerows(records)


def run_stream(args) -> dict:
    from finetune_governance.scan import build_analyzer
    from finetune_governance.scan.pii import Tally, to_hits
    from finetune_governance.scan.scanner import Scanner, ScanSettings
    from finetune_governance.scan.stream import iter_text_chunks

    params = pii_params(args.policy)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.csv"
        t0 = time.perf_counter()
        write_corpus(path, args.stream_records, seed=args.seed, pii_rate=args.pii_rate)
        write_s = time.perf_counter() - t0
        size_mib = path.stat().st_size / 2**20
        analyzer, info = build_analyzer(recognizers=params.recognizers, countries=params.countries)
        entities = sorted(set(params.entities or info.supported_entities) | {r.entity for r in params.recognizers})
        settings = ScanSettings(entities=tuple(entities), score_threshold=params.score_threshold)
        tally, first = Tally(), 0
        t0 = time.perf_counter()
        with Scanner(analyzer, settings, workers=args.workers, cache_size=args.cache_size) as scanner:
            for chunk in iter_text_chunks(path, text_column="text", chunk_records=args.chunk_records):
                tally.add(chunk, to_hits(scanner.scan(chunk), first_record=first), first_record=first)
                first += len(chunk)
                if first % 100_000 < len(chunk):
                    print(json.dumps({"progress_records": first, "seconds": round(time.perf_counter() - t0, 1),
                                      "peak_memory": peak_rss_mib()}), file=sys.stderr, flush=True)
            seen, analysed = scanner.segments_seen, scanner.segments_analysed
        scan_s = time.perf_counter() - t0
    return {
        "bench": "scan-stream", "records": first, "file_mib": round(size_mib, 1), "write_seconds": round(write_s, 1),
        "scan_seconds": round(scan_s, 1), "records_per_second": round(first / scan_s, 1),
        "chunk_records": args.chunk_records, "cache_size": args.cache_size, "workers": args.workers,
        "segments_seen": seen, "segments_analysed": analysed, "records_with_pii": tally.records_with_hits,
        "entities_found": dict(sorted(tally.counts.items())), "peak_memory": peak_rss_mib(),
    }


def run_stream_columns(args) -> dict:
    """``scan_file`` (what ``governed-finetune scan`` runs) on an N-record file: the text column
    redacted and re-scanned, every other column (ticket id, label, gender, age band) scanned
    by distinct value; peak memory every 100,000 records."""
    from finetune_governance.scan.filescan import scan_file

    params = pii_params(args.policy)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.csv"
        write_corpus(path, args.stream_records, seed=args.seed, pii_rate=args.pii_rate)
        size_mib = path.stat().st_size / 2**20
        t0, done = time.perf_counter(), [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 100_000 < n:
                print(json.dumps({"progress_records": done[0], "seconds": round(time.perf_counter() - t0, 1),
                                  "peak_memory": peak_rss_mib()}), file=sys.stderr, flush=True)

        evidence = scan_file(path, text_column="text", params=params, hash_key=None, workers=args.workers,
                             chunk_records=args.chunk_records, on_progress=progress, label_column="label",
                             sensitive_features=("gender", "age_band"))
        scan_s = time.perf_counter() - t0
    return {
        "bench": "scan-stream-columns", "records": evidence.records_scanned, "file_mib": round(size_mib, 1),
        "scan_seconds": round(scan_s, 1), "records_per_second": round(evidence.records_scanned / scan_s, 1),
        "workers": args.workers, "load_average_after": _load(),
        "columns": {c.column: {"role": c.role, "distinct_values": c.distinct_values,
                               "records_with_pii": c.records_with_pii,
                               "entities": {e.entity_type: e.records for e in c.entities}} for c in evidence.columns},
        "peak_memory": peak_rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--plain-records", type=int, default=None, help="Time plain Presidio on the first N only.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--pii-rate", type=float, default=0.33)
    parser.add_argument("--policy", default="gdpr")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stream-records", type=int, default=None)
    parser.add_argument("--stream-columns", action="store_true",
                        help="With --stream-records: run scan_file (every column, redaction and re-scan).")
    parser.add_argument("--ner-gate-check", action="store_true", help="Count NER entities the NER gate skips.")
    parser.add_argument("--chunk-records", type=int, default=10_000)
    parser.add_argument("--cache-size", type=int, default=200_000)
    parser.add_argument("--with-secrets", action="store_true",
                        help="Our scanner scans secrets too, as a run does (plain Presidio cannot; by default both "
                             "scan the same types).")
    parser.add_argument("--save-spans", default=None, help="Write our scanner's spans (offsets and types) here.")
    parser.add_argument("--compare-spans", default=None, help="Compare our spans with a file --save-spans wrote.")
    args = parser.parse_args(argv)
    if args.ner_gate_check:
        result = run_gate_check(args)
    else:
        result = (run_stream_columns(args) if args.stream_columns else run_stream(args)) if args.stream_records \
            else run_compare(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
