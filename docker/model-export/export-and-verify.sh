#!/bin/sh
# The model service: export MODEL/PRETRAINED (a complete export already there is kept), then verify the folder through
# the project's own tokenizer, preprocessing and ONNX Runtime; a mismatch fails the service, so nothing searches with it.
set -e
out="${MODEL_DIR:-/models/${MODEL:-RN50}-${PRETRAINED:-openai}}"
python /opt/image-search/export-model.py --out "$out" "$@"
exec node /opt/image-search/clip/src/cli.js verify --model "$out" --device cpu
