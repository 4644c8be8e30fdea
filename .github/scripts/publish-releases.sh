#!/usr/bin/env bash
# Publishes one GitHub release per binary in DIR (its files: <asset> and
# <asset>.*), tag <component>-<version>-nokmem, created at the commit this run
# built ($GITHUB_SHA). Published files are immutable:
#   - a binary, its .sha256 or .patch already in a release must be
#     byte-identical to this run's, or the run fails before it uploads anything;
#   - the build record (.json, .log) of an already published, identical binary
#     is kept as first published: a rebuild's record differs only in when it
#     ran and on which image ids, not in what it describes;
#   - a new release is created with all its files; files an existing release
#     lacks (an earlier run stopped half-way) are added, its SHA256SUMS last,
#     so a release with a SHA256SUMS is complete.
# Nothing is ever replaced: no `gh release upload --clobber`.
# Usage: publish-releases.sh DIR   (with gh authenticated, GH_REPO set)
set -euo pipefail
shopt -s nullglob
export LC_ALL=C

dist=${1:?usage: publish-releases.sh DIR}
: "${GITHUB_SHA:?GITHUB_SHA must name the commit the releases are tagged at}"
repo=${GH_REPO:-${GITHUB_REPOSITORY:-OWNER/REPO}}
notes="Built with kmem accounting disabled by nokmem-build. Check a download with: sha256sum -c SHA256SUMS; and its build provenance with: gh attestation verify FILE --repo $repo"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

errors=0
fail() {
  echo "::error::$*" >&2
  errors=$((errors + 1))
}
is_record() { [[ $1 == *.json || $1 == *.log ]]; }
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

# 1. Check every release against this run's files; upload nothing yet.
tags=()
for path in "$dist"/*-nokmem-linux-*; do
  bin=${path##*/}
  [[ $bin =~ -nokmem-linux-[a-z0-9]+$ ]] || continue
  tag=${bin%-linux-*}
  state=$work/$tag
  dir=$state/release   # what the release will hold
  old=$state/published # what it holds now (all but the binary)
  mkdir -p "$dir" "$old"
  cp -p -- "$path" "$dist/$bin".* "$dir"/

  if names=$(gh release view "$tag" --json assets --jq '.assets[].name' 2>"$state/err"); then
    touch "$state/exists"
  elif grep -qi 'not found' "$state/err"; then
    names=
  else
    cat "$state/err" >&2
    exit 1
  fi
  printf '%s\n' "$names" | sed '/^$/d' >"$state/names"
  published() { grep -qxF -- "$1" "$state/names"; }

  # The binary's sha256 is read from the release's SHA256SUMS or .sha256; the binary is fetched only when neither is there.
  patterns=()
  while IFS= read -r name; do [[ $name == "$bin" ]] || patterns+=(--pattern "$name"); done <"$state/names"
  if ((${#patterns[@]})); then gh release download "$tag" --dir "$old" "${patterns[@]}"; fi

  same_binary=0
  if published "$bin"; then
    old_sum=
    if [[ -f $old/SHA256SUMS ]]; then old_sum=$(awk -v n="$bin" '$2 == n || $2 == "*" n { print $1; exit }' "$old/SHA256SUMS"); fi
    if [[ -z $old_sum && -f $old/$bin.sha256 ]]; then old_sum=$(awk '{ print $1; exit }' "$old/$bin.sha256"); fi
    if [[ -z $old_sum ]]; then
      gh release download "$tag" --dir "$old" --pattern "$bin"
      old_sum=$(sum_of "$old/$bin")
    fi
    new_sum=$(sum_of "$dir/$bin")
    if [[ $old_sum != "$new_sum" ]]; then
      fail "$tag: the published $bin has sha256 $old_sum, this run built $new_sum. Published files are immutable: nothing was uploaded (to publish other bytes, delete that release and its tag by hand first)"
      continue
    fi
    same_binary=1
  fi

  while IFS= read -r name; do
    [[ $name == "$bin" || $name == SHA256SUMS ]] && continue
    if [[ ! -e $dir/$name ]]; then
      cp -p -- "$old/$name" "$dir/$name" # published, not made by this run: it stays
    elif cmp -s -- "$old/$name" "$dir/$name"; then
      :
    elif is_record "$name" && ((same_binary)); then
      echo "$tag: keeping the published $name, the record of the build that first published this identical binary"
      cp -p -- "$old/$name" "$dir/$name"
    else
      fail "$tag: the published $name differs from this run's. Published files are immutable: nothing was uploaded (to publish other bytes, delete that release and its tag by hand first)"
    fi
  done <"$state/names"

  (cd "$dir" && sha256sum -- * >"$state/SHA256SUMS") && mv -- "$state/SHA256SUMS" "$dir/SHA256SUMS"
  if published SHA256SUMS; then
    # Same lines in another order (an older run's locale) are the same list.
    if diff -q <(sort "$old/SHA256SUMS") <(sort "$dir/SHA256SUMS") >/dev/null; then
      cp -p -- "$old/SHA256SUMS" "$dir/SHA256SUMS"
    else
      fail "$tag: the published SHA256SUMS lists other files or sums than this run's:
$(diff <(sort "$old/SHA256SUMS") <(sort "$dir/SHA256SUMS") || true)"
    fi
  fi

  : >"$state/upload"
  for file in "$dir"/*; do
    name=${file##*/}
    if [[ $name != SHA256SUMS ]] && ! published "$name"; then echo "$name" >>"$state/upload"; fi
  done
  if ! published SHA256SUMS; then echo SHA256SUMS >>"$state/upload"; fi
  tags+=("$tag")
done

if ((errors)); then
  echo "$errors published file(s) would change; no release was created or changed" >&2
  exit 1
fi
if ((${#tags[@]} == 0)); then
  echo "no *-nokmem-linux-<arch> binaries in $dist" >&2
  exit 1
fi

# 2. Create the missing releases at the built commit, with all their files (gh
# uploads them to a draft and publishes it after, so this also works where the
# repository makes releases immutable); add the missing files to the others.
for tag in "${tags[@]}"; do
  state=$work/$tag
  files=()
  sums=0
  while IFS= read -r name; do
    if [[ $name == SHA256SUMS ]]; then sums=1; else files+=("$state/release/$name"); fi
  done <"$state/upload"
  if [[ ! -e $state/exists ]]; then
    gh release create "$tag" --target "$GITHUB_SHA" --title "$tag" --notes "$notes" "${files[@]}" "$state/release/SHA256SUMS"
  else
    if ((${#files[@]})); then gh release upload "$tag" "${files[@]}"; fi
    if ((sums)); then gh release upload "$tag" "$state/release/SHA256SUMS"; fi
  fi
  if ((${#files[@]} + sums)); then
    echo "$tag: uploaded $(tr '\n' ' ' <"$state/upload")"
  else
    echo "$tag: already published, identical"
  fi
done
