#!/usr/bin/env bash
# Deploys {{ cookiecutter.project_name }} to Kubernetes with kubectl alone (its built-in kustomize), to the cluster
# of kubectl's current context. The deploy workflow (.github/workflows/reusable-deploy.yml) and the
# Makefile's k8s-* targets run it:
#   deploy.sh render OVERLAY     print the manifests of overlays/OVERLAY, with the images below
#   deploy.sh diff OVERLAY       what `deploy` would change in the cluster
#   deploy.sh deploy OVERLAY     {% if cookiecutter.database == 'postgres' %}run the migrations (a Job, once per release) and then {% endif %}roll out the services;
#                                a rollout that does not finish in time is rolled back
#   deploy.sh rollback OVERLAY   undo the last rollout of every Deployment
# Settings, from the environment:
#   IMAGE_TAG          tag of the service images to run (sha-<commit> or a release); empty: the
#                      overlay's own (its environment's moving tag)
{%- if cookiecutter.use_embedding_model %}
#   MODEL_IMAGE_TAG    tag of the model-init image (model.yml builds it); empty: latest
{%- endif %}
#   ROLLOUT_TIMEOUT    seconds each rollout (and a rollback) may take, default 600
{%- if cookiecutter.database == 'postgres' %}
#   MIGRATION_TIMEOUT  seconds the migrations may take, default 660 (the Job gives up after 600)
{%- endif %}
set -euo pipefail

# The services this cluster runs: each has its image (as reusable-build.yml pushes it), its
# Deployment <project>-<service> and objects labelled app.kubernetes.io/component=<service> in base/.
IMAGE_PREFIX={{ cookiecutter.container_registry }}/{{ cookiecutter.project_slug }}
SERVICES=(api{% if cookiecutter.with_worker %} worker{% endif %})
DEPLOYMENTS=("${SERVICES[@]/#/{{ cookiecutter.project_slug }}-}")
{%- if cookiecutter.database == 'postgres' %}
MIGRATION_JOB={{ cookiecutter.project_slug }}-migrate
{%- endif %}
# Server-side apply, as one owner: fields changed by hand (or by `rollout undo`) return to git's.
SERVER_SIDE=(--server-side --force-conflicts --field-manager={{ cookiecutter.project_slug }}-deploy)
# The migrations need these first: everything but the services' own objects.
COMPONENTS=$(IFS=,; echo "${SERVICES[*]}")
BEFORE_ROLLOUT="app.kubernetes.io/component notin ($COMPONENTS)"
ROLLOUT="app.kubernetes.io/component in ($COMPONENTS)"

fail() {
    echo "::error::$*" >&2
    exit 1
}

cd "$(dirname "$0")"
(($# == 2)) || fail "usage: deploy.sh render|diff|deploy|rollback OVERLAY"
action=$1
overlay=$2
case $action in
    render | diff | deploy | rollback) ;;
    *) fail "'$action' is not an action: use render, diff, deploy or rollback." ;;
esac
if [[ ! $overlay =~ ^[a-z0-9][a-z0-9-]*$ || ! -f overlays/$overlay/kustomization.yaml ]]; then
    known=(overlays/*/kustomization.yaml)
    known=("${known[@]#overlays/}")
    fail "'$overlay' is not an overlay: use one of ${known[*]%/kustomization.yaml}."
fi
# Values that reach the manifests and kubectl: only what they may be.
tag() {
    [[ -z ${!1:-} || ${!1} =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
        fail "$1 '${!1}' is not a Docker tag: letters, digits, '_', '.', '-' (at most 128)."
}
seconds() {
    local value=${!1:-$2}
    [[ $value =~ ^[1-9][0-9]{0,4}$ ]] || fail "$1 '$value' is not a number of seconds."
    echo "$value"
}
tag IMAGE_TAG
{%- if cookiecutter.use_embedding_model %}
tag MODEL_IMAGE_TAG
{%- endif %}
rollout_timeout=$(seconds ROLLOUT_TIMEOUT 600)
{%- if cookiecutter.database == 'postgres' %}
migration_timeout=$(seconds MIGRATION_TIMEOUT 660)
{%- endif %}
namespace=$(sed -n 's/^namespace: *\([a-z0-9-]*\) *$/\1/p' "overlays/$overlay/kustomization.yaml")
[[ -n $namespace ]] || fail "overlays/$overlay/kustomization.yaml sets no namespace."

kube() {
    kubectl --namespace "$namespace" "$@"
}

# The rendered manifests ($manifests), or those of them that the arguments select.
apply() {
    kube apply "${SERVER_SIDE[@]}" --filename "$manifests" "$@"
}

# The overlay with the images set: the `images` field `kustomize edit set image` writes, in a
# kustomization of its own around a copy of the overlay, so that kubectl's kustomize applies it and
# nothing in the work tree changes.
render() {
    local scratch
    scratch=$(mktemp -d)
    cp -R base overlays "$scratch/"
    mkdir "$scratch/release"
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources:"
        echo "  - ../overlays/$overlay"
        echo "images:"
        if [[ -n ${IMAGE_TAG:-} ]]; then
            for service in "${SERVICES[@]}"; do
                printf '  - name: %s\n    newTag: %s\n' "$IMAGE_PREFIX-$service" "$IMAGE_TAG"
            done
        fi
{%- if cookiecutter.use_embedding_model %}
        if [[ -n ${MODEL_IMAGE_TAG:-} ]]; then
            printf '  - name: %s\n    newTag: %s\n' "$IMAGE_PREFIX-model-init" "$MODEL_IMAGE_TAG"
        fi
{%- endif %}
    } >"$scratch/release/kustomization.yaml"
    kubectl kustomize "$scratch/release"
    rm -rf "$scratch"
}

revision() {
    kube get deployment "$1" --ignore-not-found \
        --output "jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}"
}

# Waits for every Deployment at once; fails when one of them does not finish in time.
rollouts_finish() {
    local pids=() status=0
    for deployment in "$@"; do
        kube rollout status "deployment/$deployment" --timeout "${rollout_timeout}s" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || status=1
    done
    return "$status"
}

show_pods() {
    kube get pods --selector app.kubernetes.io/name={{ cookiecutter.project_slug }} --output wide || true
    kube get events --sort-by .lastTimestamp | tail -n 30 || true
}
{%- if cookiecutter.database == 'postgres' %}

migrate() {
    local conditions deadline=$((SECONDS + migration_timeout))
    echo "Migrating the database ($MIGRATION_JOB)"
    apply --selector "$BEFORE_ROLLOUT"
    while :; do
        conditions=" $(kube get job "$MIGRATION_JOB" --output 'jsonpath={.status.conditions[?(@.status=="True")].type}') "
        [[ $conditions != *" Complete "* ]] || return 0
        if [[ $conditions == *" Failed "* ]] || ((SECONDS >= deadline)); then
            kube logs "job/$MIGRATION_JOB" --all-containers --tail 100 || true
            kube describe pods --selector "batch.kubernetes.io/job-name=$MIGRATION_JOB" || true
            fail "The migrations failed or did not finish within ${migration_timeout}s; nothing was rolled out."
        fi
        sleep "${MIGRATION_POLL_SECONDS:-5}"
    done
}
{%- endif %}

deploy() {
    local -A before
    local undo=()
    # A deployment names its images: a moving tag would leave nothing to roll back to.
    [[ -n ${IMAGE_TAG:-} ]] || fail "IMAGE_TAG is empty: give the tag of the images to deploy (sha-<commit> or a release)."
    manifests=$(mktemp)
    trap 'rm -f "$manifests"' EXIT
    render >"$manifests"
    echo "Deploying overlays/$overlay to the namespace $namespace (image tag: ${IMAGE_TAG:-as in the overlay}{% if cookiecutter.use_embedding_model %}, model: ${MODEL_IMAGE_TAG:-latest}{% endif %})"
{%- if cookiecutter.database == 'postgres' %}
    # The previous release's migrations: finished, and a Job's pod template cannot change.
    kube delete job "$MIGRATION_JOB" --ignore-not-found --wait
{%- endif %}
    # The API server checks every object (schemas, admission, Pod Security) before anything changes.
    apply --dry-run=server >/dev/null
{%- if cookiecutter.database == 'postgres' %}
    migrate
{%- else %}
    apply --selector "$BEFORE_ROLLOUT"
{%- endif %}
    for deployment in "${DEPLOYMENTS[@]}"; do
        before[$deployment]=$(revision "$deployment")
    done
    apply --selector "$ROLLOUT"
    if rollouts_finish "${DEPLOYMENTS[@]}"; then
        echo "Deployed."
        return 0
    fi
    show_pods
    # Back to the revision each Deployment ran before, where this deployment changed it.
    for deployment in "${DEPLOYMENTS[@]}"; do
        if [[ -n ${before[$deployment]} && $(revision "$deployment") != "${before[$deployment]}" ]]; then
            kube rollout undo "deployment/$deployment" --to-revision "${before[$deployment]}"
            undo+=("$deployment")
        fi
    done
    if [[ -z ${undo[*]} ]]; then
        fail "The rollout did not finish within ${rollout_timeout}s, and there is no earlier revision to return to."
    fi
    if rollouts_finish "${undo[@]}"; then
        fail "The rollout did not finish within ${rollout_timeout}s: rolled back ${undo[*]}."
    fi
    fail "The rollout did not finish within ${rollout_timeout}s, nor did the rollback of ${undo[*]}."
}

rollback() {
    for deployment in "${DEPLOYMENTS[@]}"; do
        kube rollout undo "deployment/$deployment"
    done
    rollouts_finish "${DEPLOYMENTS[@]}" || fail "The rollback did not finish within ${rollout_timeout}s."
}

case $action in
    render) render ;;
    diff)
        manifests=$(mktemp)
        trap 'rm -f "$manifests"' EXIT
        render >"$manifests"
        # Exit status 1 means "there are differences", which is what was asked for.
        kube diff "${SERVER_SIDE[@]}" --filename "$manifests" || (($? == 1))
        ;;
    deploy) deploy ;;
    rollback) rollback ;;
esac
