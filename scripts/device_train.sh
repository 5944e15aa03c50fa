#!/usr/bin/env bash
# Train the default generator on a lent GPU machine (the `device` tool), from the shipped export,
# on the packed training data (python -m model.tools.pack ... --out .carry/pack). A call sends at
# most 64 MiB with the checkout, so the pack travels in two calls, one shard each, the second
# right after the first while the machine is still warm (it keeps what the first left there):
#
#   1. carry [.carry/pack/images/00, .carry/pack/masks]:  bash scripts/device_train.sh probe
#      a few steps: the CUDA path works, and how many images a second it trains (img_per_s)
#   2. carry [.carry/pack/images/01]:  bash scripts/device_train.sh train SECONDS IMG_PER_S
#      a warm restart planned to last SECONDS at that speed; $OUT gets the fp16 export, the
#      metrics and the validation list (release it as any run: model.tools.release --note ...)
#
# Arguments after those go to model.tools.train. Environment: OUT (where results go), PACK
# (.carry/pack), RUNS (/tmp: its run folders), CACHE (/tmp/ce-cache), DEVICE (cuda), BATCH (256),
# LR (1.5e-4: 7e-5 at batch 32 scaled by the square root of the batch), PROBE_STEPS (100),
# INIT (model/weights/ce-region.pt), MIX (the shares of mixed holes INIT last trained on, as its
# export records them, so a GPU run goes on with the holes of the release it starts from).
set -euo pipefail
export PYTHONUNBUFFERED=1
mode=${1:?usage: device_train.sh probe | train SECONDS IMG_PER_S}
out=${OUT:-/tmp/device-out}
pack=${PACK:-.carry/pack}
batch=${BATCH:-256}
python=${PYTHON:-python3}
runs=${RUNS:-/tmp}
init=${INIT:-model/weights/ce-region.pt}
mkdir -p "$out"
mix=${MIX:-$("$python" -c 'import sys; from model.export import read_export
shares = read_export(sys.argv[1])["training"].get("mixed_shares")
if not shares:
    sys.exit(f"{sys.argv[1]} records no mixed-hole shares (not trained with --mask mixed): set MIX=kind=share,...")
print(",".join(f"{kind}={share!r}" for kind, share in shares.items()))' "$init")}
echo "holes: --mix $mix"
echo "photos in the pack here: $(find "$pack/images" -name '*.webp' | wc -l) (shards: $(ls "$pack/images" | tr '\n' ' '))"
common=(--data "$pack/images" --masks "$pack/masks" --cache "${CACHE:-/tmp/ce-cache}" --device "${DEVICE:-cuda}" --precision bf16
  --batch-size "$batch" --skips --adv 0 --overlap 0 --ema 0.999 --rec-mean psnr --no-progress
  --mix "$mix" --init-from "$init")
case $mode in
  probe)
    "$python" -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"
    steps=${PROBE_STEPS:-100}
    rm -rf "$runs/ce-probe"
    "$python" -m model.tools.train "${common[@]}" --out "$runs/ce-probe" --steps "$steps" --lr 1e-5 \
      --log-every "$(( steps / 4 > 0 ? steps / 4 : 1 ))" --ckpt-every "$steps" --sample-every "$steps" "${@:2}"
    cp "$runs/ce-probe"/metrics.jsonl "$out/probe-metrics.jsonl"
    grep img_per_s "$runs/ce-probe"/metrics.jsonl | tail -1
    ;;
  train)
    seconds=${2:?SECONDS}
    rate=${3:?IMG_PER_S}
    steps=$("$python" -c "print(max(1, int($seconds * $rate / $batch)))")
    echo "planned: $steps steps of $batch (${seconds} s at ${rate} images/s)"
    rm -rf "$runs/ce-run"
    "$python" -m model.tools.train "${common[@]}" --out "$runs/ce-run" --steps "$steps" --lr "${LR:-1.5e-4}" \
      --lr-decay cosine --warmup "$(( steps / 10 < 300 ? steps / 10 : 300 ))" \
      --log-every 50 --ckpt-every 500 --sample-every 1000 "${@:4}" &
    trainer=$!
    # the last export comes back even if the call is stopped at its limit
    while kill -0 "$trainer" 2>/dev/null; do
      sleep 20
      cp "$runs/ce-run"/generator.pt "$runs/ce-run"/metrics.jsonl "$out/" 2>/dev/null || true
    done
    wait "$trainer"
    cp "$runs/ce-run"/generator.pt "$runs/ce-run"/metrics.jsonl "$runs/ce-run"/val_files.txt "$out/"
    grep validation "$out/metrics.jsonl" | tail -2
    ;;
  *)
    echo "usage: device_train.sh probe | train SECONDS IMG_PER_S" >&2
    exit 2
    ;;
esac
