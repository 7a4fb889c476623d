#!/usr/bin/env bash
# Refuses a commit while a template update is unmerged anywhere in the work tree, staged or not:
# a .rej file (copier --conflict rej, cruft) or conflict markers (copier, cruft's git apply -3).
# pre-commit runs it before every commit (.pre-commit-config.yaml); it also runs by hand.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

status=0
# Every .rej file, tracked or not, ignored ones included (.venv aside).
while IFS= read -r -d '' rejected; do
    echo "$rejected: part of an update that did not apply; merge it by hand, then delete the file"
    status=1
done < <(git ls-files -z --cached --others -- '*.rej' ':(exclude).venv/*')

# Conflict markers in tracked and new files: lines starting `<<<<<<< ` or `>>>>>>> `.
while IFS= read -r -d '' conflicted; do
    echo "$conflicted: conflict markers from an update; keep what you need, delete the markers"
    status=1
done < <(git grep -I -l -z --untracked -E '^(<{7}|>{7}) ' -- ':(exclude)*.rej' || true)
exit "$status"
