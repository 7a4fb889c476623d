#!/bin/sh
# Sets KEY=VALUE lines in an env file, in place, keeping every other line (secrets, comments,
# order) as it is; keys not in the file yet are appended. Creates the file (mode 600) if needed.
# Runs on the deployment server (POSIX sh), from deploy.sh:
#   sh set-env.sh .env IMAGE_TAG=sha-0123abc{% if cookiecutter.use_embedding_model %} MODEL_IMAGE_TAG=latest{% endif %}
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: set-env.sh FILE KEY=VALUE..." >&2
    exit 2
fi
file=$1
shift
for pair in "$@"; do
    case ${pair%%=*} in
        "$pair" | "" | [0-9]* | *[!A-Za-z0-9_]*)
            echo "set-env.sh: '$pair' is not KEY=VALUE (KEY: letters, digits, _)" >&2
            exit 2
            ;;
    esac
done

if [ ! -e "$file" ]; then
    (umask 077 && : >"$file")
fi
tmp=$(mktemp "$file.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The pairs are taken out of awk's argument list in BEGIN, so awk reads only the file.
awk '
    BEGIN {
        for (i = 2; i < ARGC; i++) {
            key = substr(ARGV[i], 1, index(ARGV[i], "=") - 1)
            if (!(key in line)) order[++count] = key
            line[key] = ARGV[i]
            ARGV[i] = ""
        }
    }
    {
        key = $0
        sub(/=.*/, "", key)
        if (key in line) {
            if (!(key in done)) print line[key]
            done[key] = 1
            next
        }
        print
    }
    END {
        for (i = 1; i <= count; i++) if (!(order[i] in done)) print line[order[i]]
    }
' "$file" "$@" >"$tmp"
# Rewrite the file's content rather than replace the file: its owner and mode stay.
cat "$tmp" >"$file"
