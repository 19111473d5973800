"""The differential test's oracle side: millrace-ai 0.20.0 generates and judges.

  differential.py generate DIR   write DIR/docs/* and DIR/manifest.json: work
                                 documents made with the reference's models,
                                 each one the reference accepts, with the
                                 fields it reads
  differential.py check DIR      compare ours' reading (DIR/ours/<name>.json)
                                 and the reference's reading of what ours
                                 wrote (DIR/ours/<name>.md) with those fields;
                                 print the counts and a JSON summary line

Run with the Python of a venv holding `millrace-ai==0.20.0`.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path

from millrace_ai.contracts import (
    IncidentDocument,
    LearningRequestDocument,
    ProbeDocument,
    SpecDocument,
    TaskDocument,
)
from millrace_ai.contracts.stage_metadata import STAGE_TO_PLANE
from millrace_ai.workspace.work_documents import (
    parse_json_import,
    parse_work_document_as,
    render_work_document,
)

MODELS = {
    "task": TaskDocument,
    "spec": SpecDocument,
    "probe": ProbeDocument,
    "incident": IncidentDocument,
    "learning_request": LearningRequestDocument,
}
PER_FAMILY = 24
WORDS = [
    "queue", "index", "crash", "daemon", "résumé", "naïve", "日本語", "данные",
    "emoji 🚀", "a:b", "50% done", "`code`", "path/to/file.rs", "x = 1", "#hash",
    "tab\tinside", "Ünïcödé", "quote \"q\"", "back\\slash", "ümlaut",
]
DATETIME_FORMS = [
    "2026-01-01 12:30:00", "2026-01-01", "1767225600", "1767225600000", "1767225600.25",
    "2026-01-01T12:30:00+0000", "2026-01-01t12:30:00z", "2026-01-01T12:30",
    "2026-01-01T12:30:00,5Z", "2026-01-01T12:30:00.123456789Z", "2026-01-01T12:30:00-0800",
    "2026-01-01T12:30:00+05:30",
]
BOOL_FORMS = ["0", "1", "off", "on", "yes", "no", "True", "FALSE", "t", "f", "y", "n"]
TIME_LABELS = ("Created-At", "Opened-At", "Updated-At")


def text(rng: random.Random, words: int = 4) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, words)))


def ident(rng: random.Random, prefix: str) -> str:
    tail = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789._-") for _ in range(rng.randint(1, 12)))
    return f"{prefix}-{tail}"


def items(rng: random.Random, low: int = 1, high: int = 4) -> list[str]:
    return [text(rng, 3) for _ in range(rng.randint(low, high))]


def maybe(rng: random.Random, value):
    return value if rng.random() < 0.5 else None


def when(rng: random.Random) -> datetime:
    base = datetime(2025, 6, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 40_000_000))
    if rng.random() < 0.3:
        base = base.replace(microsecond=rng.randint(1, 999_999))
    if rng.random() < 0.2:
        base = base.astimezone(timezone(timedelta(hours=5, minutes=30)))
    if rng.random() < 0.1:
        base = base.replace(tzinfo=None)
    return base


def lineage(rng: random.Random) -> dict:
    return {
        "root_idea_id": maybe(rng, ident(rng, "idea")),
        "root_spec_id": maybe(rng, ident(rng, "spec")),
        "root_intake_kind": maybe(rng, rng.choice(["idea", "probe", "manual", "incident", "derived_spec"])),
        "root_intake_id": maybe(rng, ident(rng, "intake")),
    }


def some(rng: random.Random, low: int = 0) -> list[str]:
    return items(rng, low, 3) if rng.random() < 0.6 else []


def task(rng: random.Random) -> dict:
    return {
        "task_id": ident(rng, "task"), "title": text(rng), "summary": rng.choice(["", text(rng, 8)]),
        **lineage(rng), "spec_id": maybe(rng, ident(rng, "spec")),
        "parent_task_id": maybe(rng, ident(rng, "task")), "incident_id": maybe(rng, ident(rng, "inc")),
        "target_paths": items(rng), "acceptance": items(rng), "required_checks": items(rng),
        "references": items(rng), "risk": items(rng),
        "depends_on": [ident(rng, "task") for _ in range(rng.randint(0, 3))],
        "blocks": [ident(rng, "task") for _ in range(rng.randint(0, 2))], "tags": some(rng),
        "status_hint": maybe(rng, rng.choice(["queued", "active", "blocked", "done"])),
        "created_at": when(rng), "created_by": text(rng, 2), "updated_at": maybe(rng, when(rng)),
    }


def spec(rng: random.Random) -> dict:
    return {
        "spec_id": ident(rng, "spec"), "title": text(rng), "summary": text(rng, 8),
        "source_type": rng.choice(["idea", "incident", "manual", "derived_spec", "probe"]),
        "source_id": maybe(rng, ident(rng, "src")), "parent_spec_id": maybe(rng, ident(rng, "spec")),
        **lineage(rng), "goals": items(rng), "non_goals": some(rng), "scope": some(rng),
        "constraints": items(rng), "assumptions": some(rng), "risks": some(rng),
        "target_paths": some(rng), "entrypoints": some(rng), "required_skills": some(rng),
        "decomposition_hints": some(rng), "acceptance": items(rng), "references": items(rng),
        "created_at": when(rng), "created_by": text(rng, 2), "updated_at": maybe(rng, when(rng)),
    }


def probe(rng: random.Random) -> dict:
    return {
        "probe_id": ident(rng, "probe"), "title": text(rng), "summary": text(rng, 6), "request": text(rng, 8),
        "target_paths": some(rng), "constraints": some(rng), "acceptance": some(rng),
        "risk_notes": some(rng), "references": some(rng), "tags": some(rng),
        "status_hint": maybe(rng, rng.choice(["queued", "active", "blocked", "done"])),
        "created_at": when(rng), "created_by": text(rng, 2), "updated_at": maybe(rng, when(rng)),
    }


def incident(rng: random.Random) -> dict:
    stage, plane = rng.choice(sorted(STAGE_TO_PLANE.items()))
    return {
        "incident_id": ident(rng, "incident"), "title": text(rng), "summary": text(rng, 6), **lineage(rng),
        "source_task_id": maybe(rng, ident(rng, "task")), "source_spec_id": maybe(rng, ident(rng, "spec")),
        "source_stage": stage, "source_plane": plane.value, "failure_class": ident(rng, "class"),
        "status_hint": maybe(rng, rng.choice(["incoming", "active", "blocked", "resolved"])),
        "severity": rng.choice(["low", "medium", "high", "critical"]), "needs_planning": rng.random() < 0.5,
        "trigger_reason": text(rng, 5), "observed_symptoms": some(rng), "failed_attempts": some(rng),
        "consultant_decision": rng.choice(["needs_planning", "blocked"]), "evidence_paths": some(rng),
        "related_run_ids": some(rng), "related_stage_results": some(rng), "references": some(rng),
        "opened_at": when(rng), "opened_by": text(rng, 2), "updated_at": maybe(rng, when(rng)),
    }


def learning_request(rng: random.Random) -> dict:
    metadata = rng.choice([{}, {"outcome": "CHECKER_PASS", "n": 3}, {"nested": {"b": [1, "ü"], "a": True}}])
    return {
        "learning_request_id": ident(rng, "learn"), "title": text(rng), "summary": rng.choice(["", text(rng, 6)]),
        "requested_action": rng.choice(["create", "improve", "promote", "export", "install"]),
        "target_skill_id": maybe(rng, ident(rng, "skill")),
        "target_stage": maybe(rng, rng.choice(["analyst", "professor", "curator", "librarian"])),
        "source_refs": some(rng), "preferred_output_paths": some(rng), "trigger_metadata": metadata,
        "originating_run_ids": [ident(rng, "run") for _ in range(rng.randint(0, 2))],
        "artifact_paths": some(rng), "references": some(rng),
        "created_at": when(rng), "created_by": text(rng, 2), "updated_at": maybe(rng, when(rng)),
    }


BUILDERS = {"task": task, "spec": spec, "probe": probe, "incident": incident, "learning_request": learning_request}


def variants(family: str, document, rng: random.Random):
    """(variant name, extension, text) of one model: renders, JSON, and hand-edits."""

    rendered = render_work_document(document)
    yield "render", "md", rendered
    yield "render_body", "md", render_work_document(document, body=f"## Notes\n\n{text(rng, 8)}\n\nMore: {text(rng)}")
    yield "json_full", "json", document.model_dump_json()
    yield "json_sparse", "json", document.model_dump_json(exclude_none=True, exclude_defaults=True)
    lines = rendered.splitlines()
    yield "blank_after_label", "md", "\n".join(l + ("\n" if l.endswith(":") else "") for l in lines) + "\n"
    yield "intro_paragraph", "md", "\n".join([lines[0], "", text(rng, 8), text(rng, 8), "", *lines[1:]]) + "\n"
    yield "unknown_labels", "md", "\n".join([lines[0], "", "Owner: someone", "Notes:", "- kept aside", "", *lines[1:]]) + "\n"
    yield "fields_after_prose", "md", fields_after_prose(lines, rng)
    label = next(l.split(":")[0] for l in lines if l.split(":")[0] in TIME_LABELS)
    form = rng.choice(DATETIME_FORMS)
    yield f"datetime {form}", "md", "\n".join(f"{label}: {form}" if l.startswith(f"{label}:") else l for l in lines) + "\n"
    if family == "incident":
        flag = rng.choice(BOOL_FORMS)
        kept = [l for l in lines if not l.startswith("Needs-Planning:")]
        yield f"bool {flag}", "md", "\n".join([*kept[:3], f"Needs-Planning: {flag}", *kept[3:]]) + "\n"
    if family == "task":
        yield "none_placeholders", "md", rendered + "\nBlocks:\n- n/a\n" if not document.blocks else rendered


def fields_after_prose(lines: list[str], rng: random.Random) -> str:
    """The last list block moved after a paragraph of prose."""

    starts = [i for i, l in enumerate(lines) if l.endswith(":")]
    if not starts:
        return "\n".join([*lines, "", text(rng, 8)]) + "\n"
    last = starts[-1]
    return "\n".join([*lines[:last], text(rng, 8), text(rng, 8), "", *lines[last:]]) + "\n"


def multiline(family: str, document):
    """A JSON import and a render whose summary-like value spans lines."""

    field = {"probe": "request", "incident": "trigger_reason"}.get(family, "summary")
    value = getattr(document, field) or "first"
    changed = document.model_copy(update={field: f"{value}\nsecond line\n\nthird ✓"})
    changed = type(document).model_validate(changed.model_dump())
    yield "multiline_json", "json", changed.model_dump_json()
    yield "multiline_render", "md", render_work_document(changed)


def reference_reads(model, extension: str, raw: str):
    if extension == "json":
        return parse_json_import(raw, model=model)
    return parse_work_document_as(raw, model=model)


def generate(root: Path) -> None:
    rng = random.Random(20260101)
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    manifest, refused = [], 0
    for family, model in MODELS.items():
        for _ in range(PER_FAMILY):
            document = model.model_validate(BUILDERS[family](rng))
            for variant, extension, raw in [*variants(family, document, rng), *multiline(family, document)]:
                try:
                    expected = reference_reads(model, extension, raw)
                except Exception:  # noqa: BLE001 - a hand-edit the reference refuses is not a case
                    refused += 1
                    continue
                name = f"{len(manifest):04d}-{family}"
                (docs / f"{name}.{extension}").write_text(raw, encoding="utf-8")
                reference_render = render_work_document(expected)
                manifest.append({
                    "name": name, "file": f"docs/{name}.{extension}", "family": family, "variant": variant,
                    "expected": normal(expected), "reference_render": reference_render,
                })
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    print(f"generated {len(manifest)} documents the reference accepts ({refused} hand-edits it refused, left out)")


def normal(document) -> dict:
    """The fields as comparable JSON: datetimes as UTC instants (no offset = UTC)."""

    return {key: normal_value(value) for key, value in document.model_dump().items()}


def normal_value(value):
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [normal_value(item) for item in value]
    if isinstance(value, dict):
        return {key: normal_value(item) for key, item in value.items()}
    return value


def folded(value):
    """Line breaks as a field line carries them: spaces."""

    if isinstance(value, str):
        return " ".join(part.strip() for part in value.splitlines() if part.strip())
    if isinstance(value, list):
        return [folded(item) for item in value]
    if isinstance(value, dict):
        return {key: folded(item) for key, item in value.items()}
    return value


def ours_model(model, ours: dict):
    """Ours' reading as the reference's model (absent fields take its defaults)."""

    payload = {key: value for key, value in ours.items() if key != "body" and value is not None}
    return model.model_validate(payload)


def check(root: Path) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    counts = dict.fromkeys(
        ["generated", "accepted", "fields_equal", "written", "reference_reads_written",
         "written_fields_equal", "render_identical", "render_comparable"], 0)
    failures = []
    for entry in manifest:
        counts["generated"] += 1
        model = MODELS[entry["family"]]
        ours_json, ours_md = root / "ours" / f"{entry['name']}.json", root / "ours" / f"{entry['name']}.md"
        if not ours_json.exists():
            error = (root / "ours" / f"{entry['name']}.error").read_text(encoding="utf-8")
            failures.append({"name": entry["name"], "variant": entry["variant"], "step": "ours refused", "detail": error})
            continue
        counts["accepted"] += 1
        ours = json.loads(ours_json.read_text(encoding="utf-8"))
        compare(entry, "ours read", lambda: normal(ours_model(model, ours)), entry["expected"], counts, "fields_equal", failures)
        written = ours_md.read_text(encoding="utf-8")
        counts["written"] += 1
        try:
            back = reference_reads(model, "md", written)
        except Exception as error:  # noqa: BLE001
            failures.append({"name": entry["name"], "variant": entry["variant"], "step": "reference refused ours", "detail": str(error)})
            continue
        counts["reference_reads_written"] += 1
        compare(entry, "reference read ours", lambda: folded(normal(back)), folded(entry["expected"]), counts, "written_fields_equal", failures)
        if not ours.get("body"):
            counts["render_comparable"] += 1
            counts["render_identical"] += written == render_work_document(back)
    for failure in failures[:20]:
        print(f"  {failure['name']} [{failure['variant']}] {failure['step']}: {failure['detail'][:300]}")
    print(
        f"ours -> reference direction: {counts['generated']} generated, {counts['accepted']} accepted by ours, "
        f"{counts['fields_equal']} with every field equal\n"
        f"reference <- ours direction: {counts['written']} written by ours, {counts['reference_reads_written']} "
        f"read by the reference, {counts['written_fields_equal']} with every field equal\n"
        f"renders byte-identical to the reference's: {counts['render_identical']} of {counts['render_comparable']} without body"
    )
    print("SUMMARY " + json.dumps({**counts, "failures": len(failures)}))


def compare(entry, step, read, expected, counts, key, failures) -> None:
    try:
        got = read()
    except Exception as error:  # noqa: BLE001
        failures.append({"name": entry["name"], "variant": entry["variant"], "step": step, "detail": str(error)})
        return
    if got == expected:
        counts[key] += 1
        return
    diff = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected) if got.get(k) != expected.get(k)}
    failures.append({"name": entry["name"], "variant": entry["variant"], "step": step, "detail": json.dumps(diff, ensure_ascii=False)})


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    {"generate": generate, "check": check}[command](directory)
