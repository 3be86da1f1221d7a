#!/usr/bin/env bash
# .ci/standalone.sh -- the project is cloned and used alone: no tracked file
# may read from a folder beside the checkout (../shared, ../anything) or name
# an absolute path of a build machine (/work/..., /home/..., /root/...).
set -u
cd "$(dirname "$0")/.."
bad=$(git grep -n -I -E '\.\./shared|(^|[^A-Za-z0-9_.])/(work|home|root)/' -- . ':!.ci/standalone.sh' || true)
if [ -n "$bad" ]; then
  echo "tracked files refer to paths outside the repository:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "standalone: no tracked file refers outside the repository"
