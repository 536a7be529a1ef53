# Sourced by the scripts: the PATH every build and test uses. wasm-opt must come from npm binaryen@132
# (scripts/tools), ahead of any /usr/bin/wasm-opt from Debian, which silently breaks hydration.
top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH="$top/scripts/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Every site build names its files after a hash of their content (/pkg/mnemosynce.<hash>.wasm), so
# the server can let browsers cache them for a year (server/src/security.rs); the binary finds the
# names in hash.txt beside it.
export LEPTOS_HASH_FILES=true
