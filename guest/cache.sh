# The content-keyed image cache: one protocol for every script that makes
# an image (sourced by build-image.sh, build-testbed-image.sh,
# import-image.sh and build-debian-image.sh; `mnkvm image rm` runs
# cache_remove, and asks image_name_problem).
#
# An image is the folder DIR/NAME-KEY, KEY hashing every input of its build
# (cache_key), complete once its manifest.json is there; DIR/NAME links to
# the newest, and NAME's other versions go. A build holds DIR/.lock from its
# check to its link: a second build of the same key waits, then finds the
# image built. A script reads:
#
#   key=$( { ...its inputs... } | cache_key)
#   cache_open DIR NAME "$key"      # locked; cache_out is DIR/NAME-KEY
#   if cache_built; then cache_point; echo "...up to date"; exit 0; fi
#   cache_work .build               # cache_work: a fresh folder in DIR, gone at exit
#   ...build in $cache_work, its manifest.json last...
#   cache_commit "$cache_work"      # it becomes cache_out; NAME points at it

# The key of what stdin holds: 16 hex digits (a version's name ends in them).
cache_key() { sha256sum | cut -c1-16; }

# Why $1 cannot be an image's name (mnkvm image import, image build
# --debian), or nothing where it can. The one definition of the rule: the
# scripts that name an image check it here, and mnkvm's TypeScript asks it.
image_name_problem() {
  if [[ ! "$1" =~ ^[a-z0-9][a-z0-9_.-]*$ ]]; then
    echo "image name '$1': use lower-case letters, digits, '.', '_' and '-'"
  elif [ "$1" = default ]; then
    echo "'default' is the built-in image's name: give another"
  fi
}

# Hold DIR/.lock until this script exits. A script that runs another under
# its lock (build-debian-image.sh runs import-image.sh) passes it on as fd 9:
# the same open file, whose lock is already held, so flock returns at once.
cache_lock() {
  mkdir -p "$1"
  [ /proc/self/fd/9 -ef "$1/.lock" ] || exec 9>"$1/.lock"
  flock 9
}

# cache_open DIR NAME KEY: DIR locked, and cache_dir, cache_name, cache_out set.
cache_open() {
  cache_dir=$1 cache_name=$2 cache_out=$1/$2-$3
  cache_lock "$cache_dir"
}

# Whether cache_out is complete (its manifest is written last).
cache_built() { [ -f "$cache_out/manifest.json" ]; }

# cache_work PREFIX: cache_work is a fresh folder DIR/PREFIX-XXXXXX, removed
# at exit (what cache_commit has taken out of it is kept).
cache_work() {
  cache_work=$(mktemp -d "$cache_dir/$1-XXXXXX")
  trap 'rm -rf "$cache_work"' EXIT
}

# cache_commit FOLDER: the finished build (its manifest in it) becomes cache_out.
cache_commit() {
  mv -T "$1" "$cache_out"
  cache_point
}

# NAME points at cache_out, in one step (a reader finds the old link or the
# new), and NAME's earlier versions go (a running guest keeps its open files;
# their snapshot templates are stale, and go with `mnkvm -c`). The new link
# is made as .NAME.new: a name cannot start with '.', so it is no image's.
cache_point() {
  ln -sfn "${cache_out##*/}" "$cache_dir/.$cache_name.new"
  mv -T "$cache_dir/.$cache_name.new" "$cache_dir/$cache_name"
  cache_drop "$cache_dir" "$cache_name" "$cache_out"
}

# cache_drop DIR NAME [KEEP]: NAME's versions (DIR/NAME-KEY: not web-1's for
# web) go, all but KEEP.
cache_drop() {
  local old
  for old in "$1/$2"-*; do
    if [[ "${old##*/}" =~ ^"$2"-[0-9a-f]{16}$ && "$old" != "${3:-}" ]]; then rm -rf "$old"; fi
  done
}

# cache_remove DIR NAME: image NAME, its link and every version, goes
# (mnkvm image rm), under the lock: a build of the same name waits.
cache_remove() {
  cache_lock "$1"
  rm -rf -- "$1/${2:?}"
  cache_drop "$1" "$2"
}
