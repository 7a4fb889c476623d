{% raw -%}
#!/usr/bin/env bash
# The parts of the workspace, read from the repository: the one place for every list of services
# in the workflows, so that a new service needs no workflow edit. A service is a directory
# services/<name>/ with a pyproject.toml; it has unit tests when it has tests/unit, integration
# tests when it has tests/integration, and an image when it has a Dockerfile. Beside the services,
# the parts are `core` (packages/, which every part builds on) and `tests` (tests/: e2e, faults).
#
#   parts.sh checks   what ci.yml checks, as lines for $GITHUB_OUTPUT: parts= (lint, type check;
#                     e2e and faults when not empty), units= (unit tests), services= (integration
#                     tests), each a JSON list. With EVENT=pull_request, the files the pull request
#                     changes come on stdin, NUL-separated (git diff --name-only -z); any other
#                     event checks every part.
#   parts.sh images   the services that have an image, as a JSON list: what reusable-build.yml
#                     builds, security.yml scans and reusable-deploy.yml promotes.
set -euo pipefail
shopt -s nullglob
export LC_ALL=C # globs sort in byte order, on every machine

# A change to one of these checks every part: what they all run with or build on.
SHARED='[
  "pyproject.toml", "uv.lock", ".python-version", "Makefile", "conftest.py",
  ".github/workflows/ci.yml", ".github/workflows/reusable-make.yml", ".github/scripts/parts.sh"
]'
# The core package, and the actions every job sets up with.
SHARED_DIRECTORIES='["packages/", ".github/actions/"]'

fail() {
    echo "::error::$*" >&2
    exit 1
}

# The services that have $1 (a file or directory in services/<name>/), as a JSON list.
services_with() {
    local path name names=()
    for path in services/*/"$1"; do
        name=${path#services/}
        name=${name%%/*}
        # A name becomes a make target, a job name and part of an image name; core and tests
        # name parts of their own.
        [[ $name =~ ^[a-z0-9]+([._-][a-z0-9]+)*$ && $name != core && $name != tests ]] ||
            fail "services/$name: a service's name is lowercase letters and digits, separated by single '-', '_' or '.', and not 'core' or 'tests'."
        names+=("$name")
    done
    jq -cn '$ARGS.positional' --args "${names[@]}"
}

checks() {
    local services units integration changed='[]'
    services=$(services_with pyproject.toml)
    [[ $services != '[]' ]] || fail "No services/<name>/pyproject.toml in $PWD: run this at the repository's root."
    units=$(services_with tests/unit)
    integration=$(services_with tests/integration)
    if [[ ${EVENT:-} == pull_request ]]; then
        changed=$(jq -Rsc 'split("\u0000") | map(select(. != ""))')
    fi
    jq -nr \
        --arg event "${EVENT:-}" \
        --argjson changed "$changed" \
        --argjson services "$services" \
        --argjson units "$units" \
        --argjson integration "$integration" \
        --argjson shared "$SHARED" \
        --argjson shared_directories "$SHARED_DIRECTORIES" '
        def every: ["core"] + $services + ["tests"];
        # The parts a changed file belongs to; none for anything else (documentation, say).
        def parts_of($file):
            if any($shared[]; . == $file) or any($shared_directories[]; . as $d | $file | startswith($d))
            then every[]
            elif $file | startswith("tests/") then "tests"
            elif $file | test("^services/[^/]+/.") then $file | split("/")[1]
            else empty
            end;
        (if $event == "pull_request" then [$changed[] as $file | parts_of($file)] else every end) as $chosen
        # In the order of every part; a directory in services/ that is no service is none.
        | [every[] | select(IN($chosen[]))] as $parts
        | "parts=\($parts | tojson)",
          "units=\([$parts[] | select(. == "core" or IN($units[]))] | tojson)",
          "services=\([$parts[] | select(IN($integration[]))] | tojson)"
    ' | tee /dev/stderr
}

images() {
    local images
    images=$(services_with Dockerfile)
    [[ $images != '[]' ]] || fail "No services/<name>/Dockerfile in $PWD: run this at the repository's root."
    echo "$images"
}

case ${1:-} in
    checks) checks ;;
    images) images ;;
    *) fail "usage: parts.sh checks|images (got '${1:-}')" ;;
esac
{%- endraw %}
