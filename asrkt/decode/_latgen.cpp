// A lattice-generating beam search over a decoding graph (HCLG), bounded like Kaldi's
// LatticeFasterDecoder: beam, max-active and min-active prune the tokens of every frame, and
// the token/link lattice is pruned with the lattice beam every `prune_interval` frames, so time
// and memory grow with the active states, not with the graph. After the last frame the lattice
// is pruned once more with the final costs, and the best path at each of several acoustic
// scales is read from it (an LM-weight sweep from one search, as Kaldi's score.sh takes it
// from the lattices of decode.sh).
//
// Written for asrkt after the behaviour of Kaldi's src/decoder/lattice-faster-decoder.cc
// (cutoffs, adaptive beam, forward-link pruning); the wheels that asrkt depends on expose no raw
// lattice from that decoder.
//
// Conventions: costs are negated log-probabilities. A link's graph cost is the HCLG arc weight;
// its acoustic cost is -scale * loglike at the search's acoustic scale. Epsilon links (input
// label 0) stay within one frame; emitting links go from frame t to frame t + 1.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// The graph: an OpenFst StdArc FST (binary "vector" or "const" file), held as arrays with each
// state's epsilon arcs first.

struct Arc {
  int32_t ilabel;
  int32_t olabel;
  float weight;
  int32_t next;
};

class Graph {
 public:
  explicit Graph(const std::string &path) : path_(path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FormatError(path + ": cannot open");
    in_ = &in;
    ReadHeader();
    if (fst_type_ == "vector") {
      ReadVector();
    } else if (fst_type_ == "const") {
      ReadConst();
    } else {
      throw FormatError(path + ": FST type '" + fst_type_ + "' (need vector or const)");
    }
    in_ = nullptr;
    Finish();
  }

  int32_t start() const { return start_; }
  int32_t num_states() const { return static_cast<int32_t>(final_.size()); }
  int64_t num_arcs() const { return static_cast<int64_t>(arcs_.size()); }
  int32_t max_ilabel() const { return max_ilabel_; }
  float final_cost(int32_t s) const { return final_[s]; }
  // epsilon arcs: [begin(s), emitting(s)); emitting arcs: [emitting(s), begin(s + 1))
  const Arc *begin(int32_t s) const { return arcs_.data() + first_[s]; }
  const Arc *emitting(int32_t s) const { return arcs_.data() + first_emitting_[s]; }
  const Arc *end(int32_t s) const { return arcs_.data() + first_[s + 1]; }
  bool has_epsilons(int32_t s) const { return first_emitting_[s] != first_[s]; }

 private:
  template <typename T>
  T Read(const char *what) {
    T value;
    if (!in_->read(reinterpret_cast<char *>(&value), sizeof(T)))
      throw FormatError(path_ + ": truncated (reading " + what + ")");
    return value;
  }

  std::string ReadString(const char *what) {
    int32_t n = Read<int32_t>(what);
    if (n < 0 || n > (1 << 20)) throw FormatError(path_ + ": not an OpenFst binary file");
    std::string s(static_cast<size_t>(n), '\0');
    if (n > 0 && !in_->read(&s[0], n))
      throw FormatError(path_ + ": truncated (reading " + what + ")");
    return s;
  }

  void SkipSymbolTable() {
    if (Read<int32_t>("symbol table") != 2125658996)
      throw FormatError(path_ + ": bad symbol table in the FST header");
    ReadString("symbol table name");
    Read<int64_t>("symbol table");
    int64_t size = Read<int64_t>("symbol table");
    for (int64_t i = 0; i < size; ++i) {
      ReadString("symbol");
      Read<int64_t>("symbol key");
    }
  }

  void ReadHeader() {
    if (Read<int32_t>("header") != 2125659606)
      throw FormatError(path_ + ": not an OpenFst binary file (bad magic number)");
    fst_type_ = ReadString("FST type");
    std::string arc_type = ReadString("arc type");
    if (arc_type != "standard")
      throw FormatError(path_ + ": arc type '" + arc_type + "' (need standard: tropical)");
    version_ = Read<int32_t>("header");
    int32_t flags = Read<int32_t>("header");
    Read<uint64_t>("header");  // properties
    int64_t start = Read<int64_t>("header");
    num_states_ = Read<int64_t>("header");
    num_arcs_ = Read<int64_t>("header");
    if (flags & 1) SkipSymbolTable();
    if (flags & 2) SkipSymbolTable();
    if (num_states_ < 0 || num_states_ > std::numeric_limits<int32_t>::max() || num_arcs_ < 0)
      throw FormatError(path_ + ": FST header gives no state count");
    if (start < -1 || start >= num_states_) throw FormatError(path_ + ": bad start state");
    start_ = static_cast<int32_t>(start);
  }

  void ReadVector() {
    final_.resize(num_states_);
    first_.assign(num_states_ + 1, 0);
    arcs_.reserve(num_arcs_);
    for (int64_t s = 0; s < num_states_; ++s) {
      final_[s] = Read<float>("a final weight");
      int64_t narcs = Read<int64_t>("an arc count");
      if (narcs < 0) throw FormatError(path_ + ": negative arc count");
      first_[s] = static_cast<int64_t>(arcs_.size());
      for (int64_t a = 0; a < narcs; ++a) arcs_.push_back(Read<Arc>("an arc"));
    }
    first_[num_states_] = static_cast<int64_t>(arcs_.size());
  }

  void Align() {  // OpenFst aligns the const FST's arrays to 16 bytes in version 1 files
    std::streamoff pos = in_->tellg();
    if (pos % 16) in_->seekg(16 - pos % 16, std::ios::cur);
  }

  void ReadConst() {
    struct ConstState {
      float final;
      uint32_t pos, narcs, niepsilons, noepsilons;
    };
    bool aligned = version_ == 1;
    if (aligned) Align();
    std::vector<ConstState> states(num_states_);
    if (num_states_ && !in_->read(reinterpret_cast<char *>(states.data()),
                                  sizeof(ConstState) * num_states_))
      throw FormatError(path_ + ": truncated (reading the states)");
    if (aligned) Align();
    arcs_.resize(num_arcs_);
    if (num_arcs_ && !in_->read(reinterpret_cast<char *>(arcs_.data()), sizeof(Arc) * num_arcs_))
      throw FormatError(path_ + ": truncated (reading the arcs)");
    final_.resize(num_states_);
    first_.assign(num_states_ + 1, 0);
    std::vector<Arc> ordered;
    ordered.reserve(num_arcs_);
    for (int64_t s = 0; s < num_states_; ++s) {
      const ConstState &st = states[s];
      if (static_cast<int64_t>(st.pos) + st.narcs > num_arcs_)
        throw FormatError(path_ + ": arc index out of range");
      final_[s] = st.final;
      first_[s] = static_cast<int64_t>(ordered.size());
      ordered.insert(ordered.end(), arcs_.begin() + st.pos, arcs_.begin() + st.pos + st.narcs);
    }
    first_[num_states_] = static_cast<int64_t>(ordered.size());
    arcs_.swap(ordered);
  }

  void Finish() {
    first_emitting_.resize(final_.size());
    max_ilabel_ = 0;
    for (size_t s = 0; s < final_.size(); ++s) {
      Arc *b = arcs_.data() + first_[s], *e = arcs_.data() + first_[s + 1];
      Arc *mid = std::stable_partition(b, e, [](const Arc &a) { return a.ilabel == 0; });
      first_emitting_[s] = mid - arcs_.data();
      for (Arc *a = b; a != e; ++a) {
        if (a->next < 0 || a->next >= num_states_ || a->ilabel < 0 || a->olabel < 0)
          throw FormatError(path_ + ": arc of state " + std::to_string(s) + " out of range");
        max_ilabel_ = std::max(max_ilabel_, a->ilabel);
      }
    }
  }

  std::string path_;
  std::ifstream *in_ = nullptr;
  std::string fst_type_;
  int32_t version_ = 0;
  int64_t num_states_ = 0, num_arcs_ = 0;
  int32_t start_ = -1;
  int32_t max_ilabel_ = 0;
  std::vector<float> final_;
  std::vector<int64_t> first_, first_emitting_;
  std::vector<Arc> arcs_;
};

// ---------------------------------------------------------------------------------------------
// The search.

struct SearchConfig {
  float beam = 13.0f;
  int32_t max_active = 7000;
  int32_t min_active = 200;
  float lattice_beam = 6.0f;
  float beam_delta = 0.5f;
  int32_t prune_interval = 25;
  float prune_scale = 0.1f;
};

struct Token {
  double cost;    // best forward cost to this (frame, state)
  double extra;   // how much worse than the best complete path through it (lattice pruning)
  int32_t links;  // first forward link, -1 for none
  int32_t next;   // next token of the same frame, -1 at the end
  int32_t state;
};

struct Link {
  int32_t to;
  int32_t ilabel;
  int32_t olabel;
  float graph;
  float acoustic;
  int32_t next;  // next link of the same token
};

struct Frame {
  int32_t head = -1;
  bool prune_links = true;
  bool prune_tokens = true;
};

struct Path {
  std::vector<int32_t> words;
  std::vector<int32_t> tids;
  double graph_cost = 0.0;
  double acoustic_cost = 0.0;  // unscaled: minus the summed log-likelihoods
};

class LatticeSearch {
 public:
  LatticeSearch(const Graph &graph, const SearchConfig &config)
      : g_(graph), c_(config), state_tok_(graph.num_states(), -1) {}

  // Search one utterance and read the best path at each of `scales` from the lattice.
  // loglikes: [T, C] log-likelihoods; column of input label i: ilabel_col[i]; search_scale: the
  // acoustic scale of the search. Returns (reached_final, paths: one per scale, None when the
  // lattice has no path).
  py::tuple Decode(py::array_t<float, py::array::c_style | py::array::forcecast> loglikes,
                   py::array_t<int32_t, py::array::c_style | py::array::forcecast> ilabel_col,
                   double search_scale, const std::vector<double> &scales, bool allow_partial,
                   py::object interrupt) {
    if (loglikes.ndim() != 2) throw std::invalid_argument("log-likelihoods must be a matrix");
    if (ilabel_col.ndim() != 1 || ilabel_col.shape(0) <= g_.max_ilabel())
      throw std::invalid_argument("the graph has input labels up to " +
                                  std::to_string(g_.max_ilabel()) +
                                  ", more than the model's transition-ids");
    if (!(search_scale > 0)) throw std::invalid_argument("search scale must be > 0");
    const int64_t num_frames = loglikes.shape(0), num_cols = loglikes.shape(1);
    const int32_t *col = ilabel_col.data();
    for (int32_t i = 1; i <= g_.max_ilabel(); ++i)
      if (col[i] < 0 || col[i] >= num_cols)
        throw std::invalid_argument("input label " + std::to_string(i) +
                                    " maps to no column of the log-likelihoods");
    const float *mat = loglikes.data();
    Reset();
    if (num_frames == 0 || g_.start() < 0) return py::make_tuple(false, py::none());
    NewToken(0, g_.start(), 0.0);
    ProcessNonemitting(0, c_.beam);
    for (int64_t t = 0; t < num_frames; ++t) {
      if (!interrupt.is_none() && t % 16 == 0) interrupt();
      // frames before the newest (whose tokens keep extra cost 0 until later frames exist)
      if (t > 0 && t % c_.prune_interval == 0)
        PruneActiveTokens(static_cast<int32_t>(t), c_.lattice_beam * c_.prune_scale);
      double cutoff = ProcessEmitting(static_cast<int32_t>(t), mat + t * num_cols, col,
                                      static_cast<float>(search_scale));
      ProcessNonemitting(static_cast<int32_t>(t) + 1, cutoff);
      if (frames_.back().head < 0) break;  // every token pruned: no path
    }
    const int32_t last = static_cast<int32_t>(frames_.size()) - 1;
    if (last != num_frames || frames_[last].head < 0) return py::make_tuple(false, py::none());
    bool reached_final = FinalizeDecoding(last);
    if (!reached_final && !allow_partial) return py::make_tuple(false, py::none());
    py::list paths;
    for (auto &p : BestPaths(last, reached_final, search_scale, scales)) {
      if (p.first)
        paths.append(py::make_tuple(p.second.words, p.second.tids, p.second.graph_cost,
                                    p.second.acoustic_cost));
      else
        paths.append(py::none());
    }
    return py::make_tuple(reached_final, paths);
  }

  // Size figures of the last search (for tests and benchmarks).
  py::dict Stats() const {
    py::dict d;
    d["max_tokens_per_frame"] = max_frame_tokens_;
    d["max_expanded_per_frame"] = max_expanded_;
    d["tokens_created"] = tokens_created_;
    d["links_created"] = links_created_;
    d["token_pool"] = toks_.size();
    d["link_pool"] = links_.size();
    d["lattice_tokens"] = lattice_tokens_;
    d["lattice_links"] = lattice_links_;
    return d;
  }

 private:
  // --- pools -----------------------------------------------------------------------------
  void Reset() {
    toks_.clear();
    links_.clear();
    free_toks_.clear();
    free_links_.clear();
    frames_.assign(1, Frame());
    for (int32_t s : touched_) state_tok_[s] = -1;
    touched_.clear();
    max_frame_tokens_ = max_expanded_ = tokens_created_ = links_created_ = 0;
    lattice_tokens_ = lattice_links_ = 0;
  }

  // an element of a pool: a recycled one, or a new one at the end
  template <typename T>
  static int32_t Allocate(std::vector<T> *pool, std::vector<int32_t> *free_list) {
    if (free_list->empty()) {
      pool->emplace_back();
      return static_cast<int32_t>(pool->size()) - 1;
    }
    int32_t i = free_list->back();
    free_list->pop_back();
    return i;
  }

  int32_t NewToken(int32_t frame, int32_t state, double cost) {
    ++tokens_created_;
    const int32_t i = Allocate(&toks_, &free_toks_);
    toks_[i] = Token{cost, 0.0, -1, frames_[frame].head, state};
    frames_[frame].head = i;
    state_tok_[state] = i;
    touched_.push_back(state);
    return i;
  }

  void AddLink(int32_t from, int32_t to, int32_t ilabel, int32_t olabel, float graph,
               float acoustic) {
    ++links_created_;
    const int32_t i = Allocate(&links_, &free_links_);
    links_[i] = Link{to, ilabel, olabel, graph, acoustic, toks_[from].links};
    toks_[from].links = i;
  }

  void DeleteLinks(int32_t tok) {
    for (int32_t l = toks_[tok].links; l >= 0;) {
      int32_t next = links_[l].next;
      free_links_.push_back(l);
      l = next;
    }
    toks_[tok].links = -1;
  }

  void ClearStateMap() {
    for (int32_t s : touched_) state_tok_[s] = -1;
    touched_.clear();
  }

  // the token of `state` in the frame being built, created or improved; true when its cost
  // changed (a new token counts as changed)
  std::pair<int32_t, bool> FindOrAdd(int32_t frame, int32_t state, double cost) {
    int32_t t = state_tok_[state];
    if (t < 0) return {NewToken(frame, state, cost), true};
    if (toks_[t].cost > cost) {
      toks_[t].cost = cost;
      return {t, true};
    }
    return {t, false};
  }

  // --- one frame -------------------------------------------------------------------------
  // the cutoff of a frame's tokens (beam, max-active, min-active) and the adaptive beam
  double GetCutoff(int32_t frame, double *adaptive_beam, int32_t *best_tok) {
    costs_.clear();
    double best = kInf;
    *best_tok = -1;
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next) {
      costs_.push_back(toks_[t].cost);
      if (toks_[t].cost < best) {
        best = toks_[t].cost;
        *best_tok = t;
      }
    }
    max_frame_tokens_ = std::max<int64_t>(max_frame_tokens_, costs_.size());
    const double beam_cutoff = best + c_.beam;
    const size_t n = costs_.size();
    if (c_.max_active > 0 && n > static_cast<size_t>(c_.max_active)) {
      std::nth_element(costs_.begin(), costs_.begin() + c_.max_active, costs_.end());
      double max_active_cutoff = costs_[c_.max_active];
      if (max_active_cutoff < beam_cutoff) {  // max-active is tighter than the beam
        *adaptive_beam = max_active_cutoff - best + c_.beam_delta;
        return max_active_cutoff;
      }
    }
    double min_active_cutoff = kInf;  // fewer tokens than min-active: keep them all
    if (n > static_cast<size_t>(c_.min_active)) {
      if (c_.min_active == 0) {
        min_active_cutoff = best;
      } else {
        std::nth_element(costs_.begin(), costs_.begin() + c_.min_active, costs_.end());
        min_active_cutoff = costs_[c_.min_active];
      }
    }
    if (min_active_cutoff > beam_cutoff) {  // min-active is looser than the beam
      *adaptive_beam = min_active_cutoff - best + c_.beam_delta;
      return min_active_cutoff;
    }
    *adaptive_beam = c_.beam;
    return beam_cutoff;
  }

  // tokens of `frame` through emitting arcs into frame + 1; returns the cutoff for frame + 1
  double ProcessEmitting(int32_t frame, const float *row, const int32_t *col, float scale) {
    double adaptive_beam;
    int32_t best_tok;
    const double cutoff = GetCutoff(frame, &adaptive_beam, &best_tok);
    ClearStateMap();
    frames_.emplace_back();
    const int32_t next_frame = frame + 1;
    double next_cutoff = kInf;
    if (best_tok >= 0) {  // a first estimate of the next cutoff from the best token
      const Token &tok = toks_[best_tok];
      for (const Arc *a = g_.emitting(tok.state), *e = g_.end(tok.state); a != e; ++a) {
        double total = tok.cost + a->weight - scale * row[col[a->ilabel]];
        next_cutoff = std::min(next_cutoff, total + adaptive_beam);
      }
    }
    int64_t expanded = 0;
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next) {
      const double cost = toks_[t].cost;
      if (cost > cutoff) continue;
      ++expanded;
      const int32_t state = toks_[t].state;
      for (const Arc *a = g_.emitting(state), *e = g_.end(state); a != e; ++a) {
        const float acoustic = -scale * row[col[a->ilabel]];
        const double total = cost + a->weight + acoustic;
        if (total >= next_cutoff) continue;
        if (total + adaptive_beam < next_cutoff) next_cutoff = total + adaptive_beam;
        const int32_t to = FindOrAdd(next_frame, a->next, total).first;
        AddLink(t, to, a->ilabel, a->olabel, a->weight, acoustic);
      }
    }
    max_expanded_ = std::max(max_expanded_, expanded);
    return next_cutoff;
  }

  // epsilon closure of the tokens of `frame` below `cutoff`
  void ProcessNonemitting(int32_t frame, double cutoff) {
    queue_.clear();
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next)
      if (g_.has_epsilons(toks_[t].state)) queue_.push_back(t);
    while (!queue_.empty()) {
      const int32_t t = queue_.back();
      queue_.pop_back();
      const double cost = toks_[t].cost;
      if (cost > cutoff) continue;
      DeleteLinks(t);  // epsilon links of an earlier, costlier visit
      const int32_t state = toks_[t].state;
      for (const Arc *a = g_.begin(state), *e = g_.emitting(state); a != e; ++a) {
        const double total = cost + a->weight;
        if (total >= cutoff) continue;
        auto found = FindOrAdd(frame, a->next, total);
        AddLink(t, found.first, 0, a->olabel, a->weight, 0.0f);
        if (found.second && g_.has_epsilons(a->next)) queue_.push_back(found.first);
      }
    }
  }

  // --- lattice pruning (extra costs from the end backwards) --------------------------------
  // extra cost of a link given the token it leaves and the token it enters
  double LinkExtra(const Token &from, const Link &l) const {
    const Token &to = toks_[l.to];
    return to.extra + ((from.cost + l.acoustic + l.graph) - to.cost);
  }

  // one token's extra cost from its links; links beyond the lattice beam are deleted
  double PruneLinksOf(int32_t t, double start_extra, bool *links_pruned) {
    double extra = start_extra;
    int32_t prev = -1;
    for (int32_t l = toks_[t].links; l >= 0;) {
      const int32_t next = links_[l].next;
      double link_extra = LinkExtra(toks_[t], links_[l]);
      if (!(link_extra <= c_.lattice_beam)) {  // beyond the beam (or NaN): delete
        if (prev < 0)
          toks_[t].links = next;
        else
          links_[prev].next = next;
        free_links_.push_back(l);
        *links_pruned = true;
      } else {
        extra = std::min(extra, std::max(link_extra, 0.0));
        prev = l;
      }
      l = next;
    }
    return extra;
  }

  void PruneForwardLinks(int32_t frame, bool *extra_changed, bool *links_pruned, double delta) {
    *extra_changed = *links_pruned = false;
    for (bool changed = true; changed;) {  // repeat: epsilon links within the frame
      changed = false;
      for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next) {
        double extra = PruneLinksOf(t, kInf, links_pruned);
        if (std::fabs(extra - toks_[t].extra) > delta) changed = true;
        toks_[t].extra = extra;
      }
      if (changed) *extra_changed = true;
    }
  }

  void PruneTokensForFrame(int32_t frame) {
    int32_t *prev = &frames_[frame].head;
    for (int32_t t = *prev; t >= 0;) {
      const int32_t next = toks_[t].next;
      if (toks_[t].extra == kInf) {
        DeleteLinks(t);
        free_toks_.push_back(t);
        *prev = next;
      } else {
        prev = &toks_[t].next;
      }
      t = next;
    }
  }

  // prune the links of frames [0, frame_plus_one) whose later frames changed since the last
  // call, and the tokens of frames [1, frame_plus_one) that lost links
  void PruneActiveTokens(int32_t frame_plus_one, double delta) {
    for (int32_t f = frame_plus_one - 1; f >= 0; --f) {
      if (frames_[f].prune_links) {
        bool extra_changed, links_pruned;
        PruneForwardLinks(f, &extra_changed, &links_pruned, delta);
        if (extra_changed && f > 0) frames_[f - 1].prune_links = true;
        if (links_pruned) frames_[f].prune_tokens = true;
        frames_[f].prune_links = false;
      }
      if (f + 1 < frame_plus_one && frames_[f + 1].prune_tokens) {
        PruneTokensForFrame(f + 1);
        frames_[f + 1].prune_tokens = false;
      }
    }
  }

  // final costs of the last frame (0 for all when no final state was reached), final pruning
  // of the whole lattice; returns whether a final state was reached
  bool FinalizeDecoding(int32_t last) {
    double best_final = kInf;
    for (int32_t t = frames_[last].head; t >= 0; t = toks_[t].next)
      best_final = std::min(best_final, toks_[t].cost + g_.final_cost(toks_[t].state));
    reached_final_ = best_final != kInf;
    double best = kInf;
    for (int32_t t = frames_[last].head; t >= 0; t = toks_[t].next)
      best = std::min(best, toks_[t].cost + FinalCost(toks_[t].state));
    bool dummy;
    for (bool changed = true; changed;) {
      changed = false;
      for (int32_t t = frames_[last].head; t >= 0; t = toks_[t].next) {
        double extra = PruneLinksOf(t, toks_[t].cost + FinalCost(toks_[t].state) - best, &dummy);
        if (extra > c_.lattice_beam) extra = kInf;
        // a change to or from infinity always counts (a relative tolerance scaled by |inf|
        // would take it for none, and an epsilon link into a token deleted below would stay)
        const double before = toks_[t].extra;
        if (!(extra == before) &&
            !(std::isfinite(extra) && std::isfinite(before) &&
              std::fabs(extra - before) <= 1e-6 * std::max(1.0, std::fabs(extra))))
          changed = true;
        toks_[t].extra = extra;
      }
    }
    PruneTokensForFrame(last);
    for (int32_t f = last - 1; f >= 0; --f) {
      bool b1, b2;
      PruneForwardLinks(f, &b1, &b2, 0.0);
      PruneTokensForFrame(f + 1);
    }
    PruneTokensForFrame(0);
    return reached_final_;
  }

  double FinalCost(int32_t state) const {
    return reached_final_ ? static_cast<double>(g_.final_cost(state)) : 0.0;
  }

  // --- best paths --------------------------------------------------------------------------
  // the tokens of a frame, each before every token that one of its epsilon links enters
  // (a topological order; tokens on an epsilon cycle, if any, follow in list order and
  // `cyclic` is set)
  void FrameOrder(int32_t frame, std::vector<int32_t> *order, bool *cyclic) {
    order->clear();
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next) indeg_[t] = 0;
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next)
      for (int32_t l = toks_[t].links; l >= 0; l = links_[l].next) {
        if (id_[links_[l].to] < 0)  // the invariant the pruning keeps; never index by -1
          throw std::logic_error("lattice pruning left a link of frame " +
                                 std::to_string(frame) + " into a deleted token");
        if (links_[l].ilabel == 0) ++indeg_[links_[l].to];
      }
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next)
      if (indeg_[t] == 0) order->push_back(t);
    for (size_t i = 0; i < order->size(); ++i)
      for (int32_t l = toks_[(*order)[i]].links; l >= 0; l = links_[l].next)
        if (links_[l].ilabel == 0 && --indeg_[links_[l].to] == 0) order->push_back(links_[l].to);
    *cyclic = false;
    for (int32_t t = frames_[frame].head; t >= 0; t = toks_[t].next)
      if (indeg_[t] > 0) {
        order->push_back(t);
        *cyclic = true;
      }
  }

  std::vector<std::pair<bool, Path>> BestPaths(int32_t last, bool reached_final,
                                               double search_scale,
                                               const std::vector<double> &scales) {
    // the tokens that survived pruning get compact ids, so that the K cost arrays are as large
    // as the lattice, not as the token pool
    const size_t K = scales.size();
    id_.assign(toks_.size(), -1);
    int32_t n = 0;
    for (int32_t f = 0; f <= last; ++f)
      for (int32_t t = frames_[f].head; t >= 0; t = toks_[t].next) id_[t] = n++;
    const size_t N = static_cast<size_t>(n);
    std::vector<double> ratio(K);
    for (size_t k = 0; k < K; ++k) ratio[k] = scales[k] / search_scale;
    std::vector<double> cost(N * K, kInf);
    std::vector<int32_t> back(N * K, -1), back_tok(N * K, -1);
    indeg_.assign(toks_.size(), 0);
    std::vector<int32_t> order;
    for (int32_t t = frames_[0].head; t >= 0; t = toks_[t].next)
      if (toks_[t].state == g_.start())
        for (size_t k = 0; k < K; ++k) cost[id_[t] * K + k] = 0.0;
    for (int32_t f = 0; f <= last; ++f) {
      bool cyclic;
      FrameOrder(f, &order, &cyclic);
      // with an epsilon cycle, repeat the frame's relaxation until nothing improves
      for (size_t pass = 0, passes = cyclic ? order.size() + 1 : 1; pass < passes; ++pass) {
        bool improved = false;
        for (int32_t t : order) {
          lattice_tokens_ += pass == 0;
          const size_t from = static_cast<size_t>(id_[t]) * K;
          for (int32_t l = toks_[t].links; l >= 0; l = links_[l].next) {
            const Link &lk = links_[l];
            lattice_links_ += pass == 0;
            if (pass > 0 && lk.ilabel != 0) continue;
            const size_t to = static_cast<size_t>(id_[lk.to]) * K;
            for (size_t k = 0; k < K; ++k) {
              const double c = cost[from + k];
              if (c == kInf) continue;
              const double total = c + lk.graph + ratio[k] * lk.acoustic;
              if (total < cost[to + k]) {
                cost[to + k] = total;
                back[to + k] = l;
                back_tok[to + k] = t;
                improved = true;
              }
            }
          }
        }
        if (!improved) break;
      }
    }
    std::vector<std::pair<bool, Path>> out(K);
    for (size_t k = 0; k < K; ++k) {
      double best = kInf;
      int32_t best_tok = -1;
      for (int32_t t = frames_[last].head; t >= 0; t = toks_[t].next) {
        double fc = reached_final ? g_.final_cost(toks_[t].state) : 0.0;
        double total = cost[id_[t] * K + k] + fc;
        if (total < best) {
          best = total;
          best_tok = t;
        }
      }
      if (best_tok < 0) continue;
      Path &p = out[k].second;
      out[k].first = true;
      p.graph_cost = reached_final ? g_.final_cost(toks_[best_tok].state) : 0.0;
      size_t guard = 0;
      for (int32_t t = best_tok; back[id_[t] * K + k] >= 0 && guard <= N; ++guard) {
        const Link &lk = links_[back[id_[t] * K + k]];
        if (lk.ilabel != 0) p.tids.push_back(lk.ilabel);
        if (lk.olabel != 0) p.words.push_back(lk.olabel);
        p.graph_cost += lk.graph;
        p.acoustic_cost += lk.acoustic / search_scale;
        t = back_tok[id_[t] * K + k];
      }
      std::reverse(p.tids.begin(), p.tids.end());
      std::reverse(p.words.begin(), p.words.end());
    }
    return out;
  }

  const Graph &g_;
  SearchConfig c_;
  std::vector<Token> toks_;
  std::vector<Link> links_;
  std::vector<int32_t> free_toks_, free_links_;
  std::vector<Frame> frames_;
  std::vector<int32_t> state_tok_, touched_, queue_, indeg_, id_;
  std::vector<double> costs_;
  bool reached_final_ = false;
  int64_t max_frame_tokens_ = 0, max_expanded_ = 0, lattice_tokens_ = 0, lattice_links_ = 0;
  int64_t tokens_created_ = 0, links_created_ = 0;
};

}  // namespace

PYBIND11_MODULE(_latgen, m) {
  m.doc() = "Lattice-generating beam search with max/min-active and lattice pruning "
            "(asrkt.decode.lattice wraps it).";
  py::register_exception<FormatError>(m, "FormatError", PyExc_ValueError);
  py::class_<Graph>(m, "Graph")
      .def(py::init<const std::string &>(), py::arg("path"),
           "Read an OpenFst StdArc FST (binary vector or const file).")
      .def_property_readonly("start", &Graph::start)
      .def_property_readonly("num_states", &Graph::num_states)
      .def_property_readonly("num_arcs", &Graph::num_arcs)
      .def_property_readonly("max_ilabel", &Graph::max_ilabel);
  py::class_<SearchConfig>(m, "SearchConfig")
      .def(py::init<>())
      .def_readwrite("beam", &SearchConfig::beam)
      .def_readwrite("max_active", &SearchConfig::max_active)
      .def_readwrite("min_active", &SearchConfig::min_active)
      .def_readwrite("lattice_beam", &SearchConfig::lattice_beam)
      .def_readwrite("beam_delta", &SearchConfig::beam_delta)
      .def_readwrite("prune_interval", &SearchConfig::prune_interval)
      .def_readwrite("prune_scale", &SearchConfig::prune_scale);
  py::class_<LatticeSearch>(m, "LatticeSearch")
      .def(py::init<const Graph &, const SearchConfig &>(), py::arg("graph"), py::arg("config"),
           py::keep_alive<1, 2>())
      .def("decode", &LatticeSearch::Decode, py::arg("loglikes"), py::arg("ilabel_col"),
           py::arg("search_scale"), py::arg("scales"), py::arg("allow_partial"),
           py::arg("interrupt") = py::none(),
           "(reached_final, [(words, tids, graph_cost, acoustic_cost) or None per scale] or "
           "None)")
      .def("stats", &LatticeSearch::Stats);
}
