# Shared by the recipes' local/nnet1_anchor.sh (issue 22: the Kaldi nnet1 anchor): source after
# path.sh (from the recipe dir); it brings ../common/stage.sh and systems.sh with it.
#   yaml_value FILE KEY                  a top-level scalar of a flat YAML config ("" if absent)
#   nnet1_dnn_conf CONF "SYSTEMS"        hid_layers, hid_dim, splice: the teachers' size (CONF/dnn.yaml
#                                        num_layers, hidden_dim, splice) and rbm_iter (CONF/rbm.yaml,
#                                        with dbn among SYSTEMS; else 1); an error line and exit when
#                                        CONF or a value is missing
#   nnet1_lstm_opts CONF "SYSTEMS"      lstm_opts: scripts/kaldi_nnet1.sh's options of the LSTM anchor
#                                        with lstm among SYSTEMS (else empty): CONF/lstm.yaml's size,
#                                        delay, streams, chunk and epochs; Kaldi's run_lstm.sh's SGD
#                                        (learn rate 0.0001, momentum 0.9, halving 0.5)
#   nnet1_cv_list DATA_DIR SEED DNN_YAML OUT
#                                        OUT: the utterances of DATA_DIR that asrkt's seed-SEED
#                                        networks hold out for CV (split_holdout with DNN_YAML's
#                                        cv_fraction, utt2uniq groups), one a line, so that Kaldi
#                                        trains and selects on the same split
. ../common/stage.sh
. ../common/systems.sh

yaml_value() { awk -F': *' -v k="$2" '$1 == k {print $2}' "$1"; }

nnet1_dnn_conf() {
  local v
  [ -d "$1" ] || { echo "$0: --conf: no folder '$1'" >&2; exit 1; }
  hid_layers=$(yaml_value "$1/dnn.yaml" num_layers); hid_dim=$(yaml_value "$1/dnn.yaml" hidden_dim)
  splice=$(yaml_value "$1/dnn.yaml" splice); rbm_iter=1
  [[ " $2 " != *" dbn "* ]] || rbm_iter=$(yaml_value "$1/rbm.yaml" rbm_iter)
  for v in hid_layers hid_dim splice rbm_iter; do
    [ -n "${!v}" ] || { echo "$0: $1: no value for $v (dnn.yaml num_layers/hidden_dim/splice, rbm.yaml rbm_iter)" >&2; exit 1; }
  done
}

nnet1_lstm_opts() {
  local k v
  lstm_opts=()
  [[ " $2 " == *" lstm "* ]] || return 0
  for k in num_layers hidden_dim proj_dim target_delay num_streams chunk_len max_epochs; do
    v=$(yaml_value "$1/lstm.yaml" $k)
    [ -n "$v" ] || { echo "$0: $1/lstm.yaml: no value for $k" >&2; exit 1; }
    local "lstm_$k=$v"
  done
  lstm_opts=(--network-type lstm --hid-layers $lstm_num_layers --cell-dim $lstm_hidden_dim
             --proj-dim $lstm_proj_dim --target-delay $lstm_target_delay --num-streams $lstm_num_streams
             --batch-size $lstm_chunk_len --max-iters $lstm_max_epochs --learn-rate 0.0001 --momentum 0.9
             --halving-factor 0.5)
}

nnet1_cv_list() {
  mkdir -p "$(dirname "$4")"
  python - "$1" "$2" "$3" > "$4.tmp" <<'PY'
import sys
import yaml
from asrkt.data.datadir import DataDir
from asrkt.data.kaldi_files import read_map
from asrkt.nnet.corpus import split_holdout
from asrkt.nnet.config import TeacherConfig
data = DataDir(sys.argv[1])
fraction = (yaml.safe_load(open(sys.argv[3])) or {}).get("cv_fraction", TeacherConfig().cv_fraction)
groups = read_map(data.file("utt2uniq")) if data.has("utt2uniq") else None
_, cv = split_holdout(data.utterances, fraction, int(sys.argv[2]), groups)
print("\n".join(cv))
PY
  mv "$4.tmp" "$4"
  echo "  $(wc -l < "$4") CV utterances of $(wc -l < "$1/feats.scp")" >&2
}
