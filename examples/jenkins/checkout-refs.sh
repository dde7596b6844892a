#!/bin/sh
# Checks out, into the directory given (default: src), the code a Bowline build is for, as Prow's
# clonerefs does: the base branch at PULL_BASE_SHA and, for a presubmit, each pull request merged
# into it (PULL_REFS is "base_ref:base_sha,number:sha,..."). Reads REPO_OWNER, REPO_NAME and
# PULL_REFS, the parameters Bowline sends. A periodic has none of them: give it REPO_OWNER,
# REPO_NAME and PULL_BASE_REF (branch head) yourself.
#
# CLONE_URL overrides where the repository is fetched from (default: GitHub over HTTPS; a GitHub
# Enterprise host, or a mirror). Credentials come from git's own configuration (in Jenkins, a
# credential helper such as withCredentials([gitUsernamePassword(...)])).
set -eu

dest=${1:-src}
: "${REPO_OWNER:?REPO_OWNER is not set: declare it as a parameter of the Jenkins job}"
: "${REPO_NAME:?REPO_NAME is not set: declare it as a parameter of the Jenkins job}"
url=${CLONE_URL:-https://github.com/$REPO_OWNER/$REPO_NAME.git}
refs=${PULL_REFS:-}

git init -q "$dest"
cd "$dest"
git remote remove origin 2>/dev/null || true
git remote add origin "$url"
# Merges need a committer; these commits never leave the workspace.
git config user.name "Bowline build"
git config user.email "bowline@localhost"

if [ -z "$refs" ]; then
  branch=${PULL_BASE_REF:?neither PULL_REFS nor PULL_BASE_REF is set: nothing says what to build}
  git fetch -q --no-tags origin "refs/heads/$branch"
  git checkout -q --detach FETCH_HEAD
  exit 0
fi

base=${refs%%,*}
base_ref=${base%%:*}
base_sha=${base#*:}
git fetch -q --no-tags origin "refs/heads/$base_ref"
git checkout -q --detach "$base_sha"

# Each pull request after the base: "number:sha"; its head is fetched from refs/pull/N/head and
# its commit merged, so a presubmit tests what merging would give.
pulls=${refs#"$base"}
pulls=${pulls#,}
old_ifs=$IFS
IFS=,
for pull in $pulls; do
  IFS=$old_ifs
  number=${pull%%:*}
  sha=${pull#*:}
  git fetch -q --no-tags origin "refs/pull/$number/head"
  git merge -q --no-ff --no-edit -m "Merge pull request #$number ($sha) into $base_ref" "$sha"
done
IFS=$old_ifs
echo "checked out $REPO_OWNER/$REPO_NAME at $(git rev-parse HEAD) for ${refs}"
