#!/usr/bin/env python3
"""fake_codex.py: the same stand-in for `codex exec` as fake_codex.c, in Python.

Not used for the figures: run.sh times it next to the C build to show why the
C build is the one given to the runtimes (interpreter start-up per stage would
dominate the overhead being measured). Behaviour is identical: see
fake_codex.c for the contract.
"""
import json
import os
import re
import sys

VALUE_OPTIONS = {
    "--output-last-message", "-o", "--cd", "-C", "--model", "-m", "-c", "--config",
    "--profile", "-p", "--sandbox", "-s", "--color", "--output-schema", "--image", "-i",
    "--add-dir", "--enable", "--disable", "--local-provider", "--ask-for-approval", "-a",
}
MARKER = re.compile(r"###[ \t]*([A-Z_]+)(?![a-z0-9])")


def main(argv):
    last_message, prompt, as_json, positional = None, None, False, 0
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--json":
            as_json = True
        elif a in ("--output-last-message", "-o"):
            i += 1
            last_message = argv[i] if i < len(argv) else None
        elif a in VALUE_OPTIONS:
            i += 1
        elif a.startswith("-") and a != "-":
            pass
        else:
            positional += 1
            if not (positional == 1 and a in ("exec", "e")):
                prompt = a
        i += 1
    if prompt is None or prompt == "-":
        prompt = sys.stdin.read()
    marker = next(
        (m for m in MARKER.findall(prompt) if m != "BLOCKED" and not m.endswith("_RUNNING")),
        None,
    )
    if marker is None:
        sys.stderr.write("fake_codex: no legal success marker in the prompt\n")
        return 1
    message = f"### {marker}\n"
    last_message = last_message or os.environ.get("MILLRACE_LAST_MESSAGE_PATH")
    if last_message:
        with open(last_message, "w") as f:
            f.write(message)
    elif not as_json:
        sys.stdout.write(message)
    if as_json:
        events = [
            {"type": "thread.started", "thread_id": "fake-thread"},
            {"type": "turn.started"},
            {"type": "item.completed",
             "item": {"id": "item_0", "type": "agent_message", "text": f"### {marker}"}},
            {"type": "turn.completed",
             "usage": {"input_tokens": len(prompt) // 4 + 1, "cached_input_tokens": 0,
                       "output_tokens": len(message) // 4 + 1, "reasoning_output_tokens": 0}},
        ]
        sys.stdout.write("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))
    log = os.environ.get("FAKE_CODEX_LOG")
    if log:
        with open(log, "a") as f:
            f.write(message[4:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
