#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with only Rust on it: installs the system
# packages the tests need (when missing), checks formatting and lints, builds the binaries the
# end-to-end tests start, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtesseract-dev, libleptonica-dev, clang and pkg-config build the linked-in Tesseract; cmake and
# nasm build the linked-in libjpeg-turbo (the JPEG check in validation).
packages=(tmux tesseract-ocr tesseract-ocr-eng fonts-ocr-b libtesseract-dev libleptonica-dev clang pkg-config cmake nasm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --bins --locked
# The PostgreSQL store's tests need a PostgreSQL on 127.0.0.1:5432 (trust authentication, user
# postgres; or IDREVIEW_TEST_PG_URL). One that answers is used; else a throwaway cluster is
# started (installing Debian's postgresql package when missing) and stopped at the end.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  .ci/postgres.sh start
  trap '.ci/postgres.sh stop' EXIT
fi
cargo test --workspace --locked
