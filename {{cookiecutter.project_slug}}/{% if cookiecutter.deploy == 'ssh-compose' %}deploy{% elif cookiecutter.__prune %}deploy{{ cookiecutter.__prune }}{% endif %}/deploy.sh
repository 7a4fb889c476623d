#!/usr/bin/env bash
# Deploys the stack to a server with Docker Compose, over SSH. Run by the deploy workflow
# (.github/workflows/reusable-deploy.yml), which sets these variables:
#   DEPLOY_HOST, DEPLOY_USER   the server and the user (in the docker group) that runs the stack
#   DEPLOY_SSH_KEY             private key whose public half is in that user's authorized_keys
#   DEPLOY_KNOWN_HOSTS         the server's host keys (`ssh-keyscan -t ed25519 HOST`)
#   DEPLOY_PATH                directory of the stack on the server, relative to the user's home
#   COMPOSE_FILES              compose files, in overlay order; COMPOSE_PROJECT: the project name
#   IMAGE_TAG{% if cookiecutter.use_embedding_model %}, MODEL_IMAGE_TAG   image tags{% else %}                  image tag{% endif %} written into the server's .env
# The server pulls from the registry with its own login (once: `docker login`, a read-only token).
# Its .env keeps the stack's secrets (POSTGRES_PASSWORD), written once by whoever sets it up.
set -euo pipefail

fail() {
    echo "::error::$*" >&2
    exit 1
}
for name in DEPLOY_HOST DEPLOY_USER DEPLOY_SSH_KEY DEPLOY_KNOWN_HOSTS; do
    [[ -n ${!name:-} ]] || fail "$name is empty: set the secret $name in the GitHub environment."
done
# Values that reach the server's shell: only characters that need no quoting there.
check() {
    [[ $2 =~ ^$3$ ]] || fail "$1 '$2' is not allowed: use $4."
}
check DEPLOY_PATH "$DEPLOY_PATH" '[A-Za-z0-9_][A-Za-z0-9_./-]*' "a path of letters, digits, '_', '.', '-', '/'"
check COMPOSE_PROJECT "$COMPOSE_PROJECT" '[a-z0-9][a-z0-9_-]*' "lowercase letters, digits, '_', '-'"
check IMAGE_TAG "$IMAGE_TAG" '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}' "a Docker tag"
{%- if cookiecutter.use_embedding_model %}
check MODEL_IMAGE_TAG "$MODEL_IMAGE_TAG" '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}' "a Docker tag"
{%- endif %}
read -ra files <<<"$COMPOSE_FILES"
compose="docker compose -p $COMPOSE_PROJECT"
for file in "${files[@]}"; do
    check "A compose file" "$file" '[A-Za-z0-9_.-]+' "a file name in the repository root"
    compose+=" -f $file"
done

keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
printf '%s\n' "$DEPLOY_SSH_KEY" >"$keys/id"
printf '%s\n' "$DEPLOY_KNOWN_HOSTS" >"$keys/known_hosts"
chmod 600 "$keys/id"
ssh_options=(-i "$keys/id" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$keys/known_hosts")
target="$DEPLOY_USER@$DEPLOY_HOST"

echo "Deploying $IMAGE_TAG to $target:$DEPLOY_PATH ($compose)"
# The remote commands are expanded here, on purpose: every value in them was checked above.
# shellcheck disable=SC2029
ssh "${ssh_options[@]}" "$target" "mkdir -p $DEPLOY_PATH"
scp "${ssh_options[@]}" "${files[@]}" deploy/set-env.sh "$target:$DEPLOY_PATH/"
# shellcheck disable=SC2029
ssh "${ssh_options[@]}" "$target" "set -e; cd $DEPLOY_PATH
sh set-env.sh .env IMAGE_TAG=$IMAGE_TAG{% if cookiecutter.use_embedding_model %} MODEL_IMAGE_TAG=$MODEL_IMAGE_TAG{% endif %}
# A required setting missing from the server's .env (POSTGRES_PASSWORD) stops here, named, before
# anything is pulled or stopped.
$compose config --quiet
$compose pull --quiet
$compose up -d --wait --wait-timeout 300 --remove-orphans
docker image prune -f >/dev/null"
echo "Deployed."
