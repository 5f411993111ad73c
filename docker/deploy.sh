#!/bin/sh
# Deploys one workspace package, already compiled (docker/build-js.mjs), to a folder with its production dependencies
# only — what its image runs with plain `node`. Used by docker/Dockerfile's build stage:
#   sh docker/deploy.sh <downloader|embedder|search-api|ui|clip> <folder>
set -eu
name=$1 out=$2
case "$name" in
  clip) package=@image-search/clip ;;
  *) package="@image-search/$name" ;;
esac
pnpm --filter "$package" deploy --prod --legacy "$out" >/dev/null
rm -rf "$out/test" "$out/scripts"
if [ "$name" = ui ]; then
  # The page is served built; its sources and build tools stay behind.
  rm -rf "$out/src" "$out/index.html" "$out/vite.config.ts" "$out/vitest.config.ts" "$out/dist"
  cp -r services/ui/dist "$out/dist" && chmod -R a+rX "$out/dist"
fi
for dep in tsx vite; do
  if [ -e "$out/node_modules/$dep" ]; then echo "$dep must not ship in the $name image" >&2; exit 1; fi
done
# onnxruntime-node carries binaries for every OS and CPU; keep this platform's (about 250 MB less an image).
for bin in "$out"/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v*; do
  [ -d "$bin" ] || continue
  find "$bin" -mindepth 2 -maxdepth 2 -type d ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} +
done
echo "deployed $package to $out ($(du -sh "$out" | cut -f1))"
