#!/usr/bin/env bash
# .ci/standalone.sh -- the project is cloned and used alone: no tracked file
# may read from a folder beside the checkout or name an absolute path of a
# build machine.  The patterns are assembled from pieces so that this file
# does not match itself.
set -u
cd "$(dirname "$0")/.."
up='\.\.'; sib="${up}/sha""red"
machine='(^|[^A-Za-z0-9_.])/(wo''rk|ho''me|ro''ot)/'
bad=$(git grep -n -I -E "${sib}|${machine}" -- . || true)
if [ -n "$bad" ]; then
  echo "tracked files refer to paths outside the repository:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "standalone: no tracked file refers outside the repository"
