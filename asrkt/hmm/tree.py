"""Phonetic decision trees as Kaldi builds them (src/tree): questions, roots, greedy splitting,
leaf clustering, and the result as Kaldi's ContextDependency.

- :func:`cluster_phones` (Kaldi's cluster-phones / AutomaticallyObtainQuestions): top-down
  2-means clustering of the phone sets by their pooled statistics; every cluster of the
  hierarchy is a question.
- :func:`compile_questions` (compile-questions): the phone questions for every context
  position and the pdf-class questions [0], [0 1], ... for the HMM position.
- :func:`read_roots` (phones/roots.int): ``shared|not-shared split|not-split <phones>``.
- :func:`build_tree` (build-tree / BuildTree): one stub leaf per shared root (a table over
  pdf-classes for a not-shared root), then greedy splitting of the leaf with the best
  likelihood gain until ``num_leaves`` or ``thresh``, then bottom-up merging of the leaves of
  each root whose merge costs at most ``cluster_thresh``, rounding the number of leaves down to
  a multiple of 8 by the cheapest further merges within roots (``round_num_leaves``, Kaldi's
  default) and renumbering.
- :class:`Tree`: the event map (``CE``/``SE``/``TE`` nodes) with Kaldi's binary and text
  serialisation, so it loads into ``kaldi_hmm_gmm.ContextDependency`` (its pickled state is the
  binary tree bytes) and is written as Kaldi's ``tree`` file. A tree that does not map every
  phone context of the topology to a pdf, or whose pdfs are not numbered 0..n-1 without gaps,
  is refused (:meth:`Tree.check`).

Objective values are float64 here and float32 in Kaldi, so a near tie between two questions can
be broken differently; the phone questions come from a seeded numpy generator where Kaldi uses
rand().
"""

from __future__ import annotations

import functools
import heapq
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

import numpy as np

from asrkt.errors import AsrktError, where
from asrkt.hmm import kaldi_binary as kb
from asrkt.hmm.config import TreeConfig
from asrkt.hmm.kaldi import khg
from asrkt.hmm.tree_stats import ABSENT, TreeStats, gauss_objf
from asrkt.utils.fileio import atomic_output

PathLike = Union[str, Path]
logger = logging.getLogger("asrkt.tree")
PDF_CLASS = -1  # Kaldi's kPdfClass key


# ---- event maps -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leaf:
    """``CE``: a constant answer (the pdf-id)."""

    answer: int


@dataclass(frozen=True)
class Split:
    """``SE``: ``yes`` when the event's value of ``key`` is in ``yes_set``, else ``no``."""

    key: int
    yes_set: Tuple[int, ...]
    yes: EventMap
    no: EventMap


@dataclass(frozen=True)
class Table:
    """``TE``: the child indexed by the event's value of ``key`` (None: no answer)."""

    key: int
    table: Tuple[Optional[EventMap], ...]


EventMap = Union[Leaf, Split, Table]


def map_event(node: EventMap, event: Dict[int, int]) -> Optional[int]:
    """The answer of an event map for an event (key -> value), None where it has none.

    Args:
        node: the event map.
        event: values of the keys (-1: pdf-class, 0..N-1: context phones).
    """
    while True:
        if isinstance(node, Leaf):
            return node.answer
        value = event.get(node.key)
        if value is None:
            return None
        if isinstance(node, Split):
            node = node.yes if value in node.yes_set else node.no
        else:
            if not 0 <= value < len(node.table) or node.table[value] is None:
                return None
            node = node.table[value]


def leaves(node: EventMap) -> List[int]:
    """Every answer in an event map (with repeats), depth first."""
    out: List[int] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Leaf):
            out.append(n.answer)
        elif isinstance(n, Split):
            stack += [n.no, n.yes]
        else:
            stack += [c for c in reversed(n.table) if c is not None]
    return out


def map_leaves(node: EventMap, mapping: Dict[int, EventMap]) -> EventMap:
    """Replace each leaf whose answer is in ``mapping`` by its map (Kaldi's EventMap::Copy)."""
    if isinstance(node, Leaf):
        return mapping.get(node.answer, node)
    if isinstance(node, Split):
        return Split(node.key, node.yes_set, map_leaves(node.yes, mapping),
                     map_leaves(node.no, mapping))
    return Table(node.key, tuple(None if c is None else map_leaves(c, mapping)
                                 for c in node.table))


def _in_set(values: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """``np.isin(values, members)`` for small non-negative members, by table look-up."""
    if len(values) == 0 or not members or min(members) < 0:
        return np.isin(values, members)
    table = np.zeros(max(int(values.max()), max(members)) + 2, dtype=bool)
    table[list(members)] = True
    return table[values]  # a value of -1 reads the last entry, never a member


def map_rows(node: EventMap, events: np.ndarray) -> np.ndarray:
    """Answers for rows of :class:`TreeStats` events (column 0 pdf-class, 1 + j context j).

    Raises an error when an event lacks a key the map asks or reaches no answer.

    Args:
        node: the event map.
        events: int [E, 1 + N].
    """
    out = np.full(len(events), -1, dtype=np.int64)

    def column(key: int) -> int:
        if key < PDF_CLASS or key + 1 >= events.shape[1]:
            raise AsrktError(f"the tree asks about key {key}, outside the statistics' context "
                             f"window of width {events.shape[1] - 1}")
        return key + 1

    def visit(n: EventMap, rows: np.ndarray) -> None:
        if len(rows) == 0:
            return
        if isinstance(n, Leaf):
            out[rows] = n.answer
            return
        values = events[rows, column(n.key)]
        if np.any(values == ABSENT) and n.key != PDF_CLASS:
            raise AsrktError(f"an event without context key {n.key} (a context-independent "
                             f"phone, --ci-phones) reaches a question about that key: ci-phones "
                             f"must not share a root with other phones")
        if isinstance(n, Split):
            yes = _in_set(values, n.yes_set)
            visit(n.yes, rows[yes])
            visit(n.no, rows[~yes])
            return
        for value in np.unique(values):
            child = n.table[value] if 0 <= value < len(n.table) else None
            if child is None:
                raise AsrktError(f"no answer for value {value} of key {n.key} in the tree")
            visit(child, rows[values == value])

    visit(node, np.arange(len(events)))
    return out


# ---- Kaldi serialisation ----------------------------------------------------------------------
def _binary_map(node: Optional[EventMap], out: List[bytes]) -> None:
    if node is None:
        out.append(kb.token("NULL"))
    elif isinstance(node, Leaf):
        out += [kb.token("CE"), kb.int32(node.answer)]
    elif isinstance(node, Split):
        out += [kb.token("SE"), kb.int32(node.key), kb.int_vector(node.yes_set), kb.token("{")]
        _binary_map(node.yes, out)
        _binary_map(node.no, out)
        out.append(kb.token("}"))
    else:
        out += [kb.token("TE"), kb.int32(node.key), kb.uint32(len(node.table)), kb.token("(")]
        for child in node.table:
            _binary_map(child, out)
        out.append(kb.token(")"))


def _text_map(node: Optional[EventMap], out: List[str]) -> None:
    if node is None:
        out.append("NULL ")
    elif isinstance(node, Leaf):
        out.append(f"CE {node.answer} ")
    elif isinstance(node, Split):
        out.append(f"SE {node.key} [ {''.join(f'{v} ' for v in node.yes_set)}]\n{{ ")
        _text_map(node.yes, out)
        _text_map(node.no, out)
        out.append("} \n")
    else:
        out.append(f"TE {node.key} {len(node.table)} ( ")
        for child in node.table:
            _text_map(child, out)
        out.append(") \n")


class _Reader(kb.KaldiReader):
    """KaldiReader that also reads event maps."""

    def event_map(self, depth: int = 0) -> Optional[EventMap]:
        if depth > 900:  # below Python's recursion limit: an error line, never a crash
            raise self.fail("event map nested too deeply")
        kind = self.token()
        if kind == "NULL":
            return None
        if kind == "CE":
            return Leaf(self.integer())
        if kind == "SE":
            key = self.integer()
            yes_set = self.int_vector()
            self.expect("{")
            yes, no = self.event_map(depth + 1), self.event_map(depth + 1)
            self.expect("}")
            if yes is None or no is None:
                raise self.fail("NULL branch of a split")
            if list(yes_set) != sorted(set(yes_set)):
                raise self.fail("split values not sorted and unique")
            return Split(key, yes_set, yes, no)
        if kind == "TE":
            key = self.integer()
            size = self.integer(signed=False)
            if size > len(self.data):
                raise self.fail("table larger than the file")
            self.expect("(")
            table = tuple(self.event_map(depth + 1) for _ in range(size))
            self.expect(")")
            return Table(key, table)
        raise self.fail(f"unexpected token '{kind[:20]}'")


# ---- the tree ---------------------------------------------------------------------------------
@dataclass
class Tree:
    """A context-dependency tree: window width N, central position P and the map to pdfs.

    Attributes:
        context_width: N.
        central_position: P.
        root: the event map (answers are pdf-ids).
        summary: numbers from building (objective improvements, leaves), for logs.
    """

    context_width: int
    central_position: int
    root: EventMap
    summary: Dict[str, float] = field(default_factory=dict)

    @property
    def num_pdfs(self) -> int:
        return max(leaves(self.root)) + 1

    def compute(self, phones: Sequence[int], pdf_class: int) -> Optional[int]:
        """The pdf of a phone in context (as ContextDependency::Compute).

        Args:
            phones: the N phones of the window (0: none).
            pdf_class: the HMM state's pdf-class.
        """
        if len(phones) != self.context_width:
            raise AsrktError(f"context of {len(phones)} phones for a tree of context width "
                             f"{self.context_width}")
        event = {j: int(p) for j, p in enumerate(phones)}
        event[PDF_CLASS] = int(pdf_class)
        return map_event(self.root, event)

    def to_bytes(self) -> bytes:
        """Kaldi's binary ContextDependency (no file header): what the wheel pickles."""
        out = [kb.token("ContextDependency"), kb.int32(self.context_width),
               kb.int32(self.central_position), kb.token("ToPdf")]
        _binary_map(self.root, out)
        out.append(kb.token("EndContextDependency"))
        return b"".join(out)

    def to_text(self) -> str:
        """Kaldi's text ContextDependency (as ``copy-tree --binary=false``)."""
        out = [f"ContextDependency {self.context_width} {self.central_position} ToPdf "]
        _text_map(self.root, out)
        out.append("EndContextDependency ")
        return "".join(out)

    def context_dependency(self):
        """The tree as a ``kaldi_hmm_gmm.ContextDependency``."""
        data = self.to_bytes()
        cd = khg.ContextDependency.__new__(khg.ContextDependency)
        cd.__setstate__(([b - 256 if b > 127 else b for b in data],))
        return cd

    def write(self, path: PathLike, binary: bool = True) -> None:
        """Write Kaldi's ``tree`` file atomically (binary: ``\\0B`` header + bytes).

        Args:
            path: output file.
            binary: binary (Kaldi's default) or text.
        """
        with atomic_output(path) as tmp:
            if binary:
                tmp.write_bytes(b"\x00B" + self.to_bytes())
            else:
                tmp.write_text(self.to_text())

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "tree") -> Tree:
        """Parse a Kaldi ContextDependency, binary (with or without ``\\0B``) or text.

        Args:
            data: the file's bytes.
            source: name for error messages.
        """
        data, binary = kb.split_header(data)
        if data.startswith(b"ContextDependency \x04"):
            binary = True  # the bytes of a pickled ContextDependency: binary, no header
        reader = _Reader(data, binary, source, "tree")
        reader.expect("ContextDependency")
        n, p = reader.integer(), reader.integer()
        if not 0 <= p < n or n > 100:
            raise reader.fail(f"context width {n} / central position {p}")
        reader.expect("ToPdf")
        root = reader.event_map()
        if root is None:
            raise reader.fail("empty event map")
        reader.expect("EndContextDependency")
        return cls(n, p, root)

    @classmethod
    def read(cls, path: PathLike,
             phone2num_pdf_classes: Optional[Sequence[int]] = None) -> Tree:
        """Read Kaldi's ``tree`` file (binary or text); with the topology's pdf-classes per
        phone, refuse it when it does not cover every phone context (:meth:`check`).

        Args:
            path: the file.
            phone2num_pdf_classes: ``HmmTopology.get_phone_to_num_pdf_classes()``, or None.
        """
        path = Path(path)
        if not path.is_file():
            raise AsrktError(f"{path}: tree file does not exist")
        tree = cls.from_bytes(path.read_bytes(), str(path))
        if phone2num_pdf_classes is not None:
            tree.check(phone2num_pdf_classes, str(path))
        return tree

    def check(self, phone2num_pdf_classes: Sequence[int], source: str = "tree") -> None:
        """Refuse a tree that leaves a phone context of the topology without a pdf, or whose
        pdfs are not 0..n-1 without gaps. One error line naming the first gap.

        Args:
            phone2num_pdf_classes: pdf-classes per phone id (0 for ids that are no phone),
                e.g. ``HmmTopology.get_phone_to_num_pdf_classes()``.
            source: name for error messages.
        """
        phones = [p for p, n in enumerate(phone2num_pdf_classes) if p > 0 and n > 0]
        context = frozenset([0] + phones)
        reached = set()

        def visit(node: Optional[EventMap], domain: Dict[int, FrozenSet[int]], what: str) -> None:
            if isinstance(node, Leaf):
                reached.add(node.answer)
                return
            if node is None:
                raise AsrktError(f"{source}: {what} has no pdf")
            if node.key not in domain:
                raise AsrktError(f"{source}: the tree asks about key {node.key}, outside the "
                                 f"context window of width {self.context_width}")
            values = domain[node.key]
            if isinstance(node, Split):
                for part, child in ((values & frozenset(node.yes_set), node.yes),
                                    (values - frozenset(node.yes_set), node.no)):
                    if part:
                        visit(child, {**domain, node.key: part}, what)
                return
            for value in sorted(values):
                child = node.table[value] if value < len(node.table) else None
                visit(child, {**domain, node.key: frozenset([value])},
                      f"{what} with {_key_name(node.key, self.central_position)} = {value}")

        for phone in phones:
            for pdf_class in range(phone2num_pdf_classes[phone]):
                domain = {j: context for j in range(self.context_width)}
                domain[self.central_position] = frozenset([phone])
                domain[PDF_CLASS] = frozenset([pdf_class])
                visit(self.root, domain, f"phone {phone} pdf-class {pdf_class}")
        if not reached:
            raise AsrktError(f"{source}: the tree maps no phone of the topology")
        answers = set(leaves(self.root))
        if min(answers) < 0:
            raise AsrktError(f"{source}: negative pdf-id {min(answers)} in the tree")
        num_pdfs = max(answers) + 1  # as Kaldi's NumPdfs: the largest answer anywhere + 1
        if len(reached) < num_pdfs:
            first = next(i for i, pdf in enumerate(sorted(reached) + [num_pdfs]) if pdf != i)
            raise AsrktError(f"{source}: pdf {first} is not reached by any phone context "
                             f"({num_pdfs - len(reached)} of {num_pdfs} pdfs unreachable)")


def _key_name(key: int, central: int) -> str:
    if key == PDF_CLASS:
        return "pdf-class"
    return "central phone" if key == central else f"context position {key}"


# ---- questions and roots ----------------------------------------------------------------------
@dataclass
class Questions:
    """Questions per key (Kaldi's compiled questions.qst without refinement).

    Attributes:
        phone: phone sets asked about every context position, sorted and unique.
        pdf_class: pdf-class sets asked about the HMM position ([0], [0 1], ...).
    """

    phone: List[Tuple[int, ...]]
    pdf_class: List[Tuple[int, ...]]

    def for_key(self, key: int) -> List[Tuple[int, ...]]:
        return self.pdf_class if key == PDF_CLASS else self.phone


def compile_questions(phone_questions: Sequence[Sequence[int]], max_num_pdf_classes: int,
                      source: str = "questions",
                      phones: Optional[Sequence[int]] = None) -> Questions:
    """Kaldi's compile-questions: sort each question, drop repeated questions, add the
    pdf-class questions [0], [0 1], ..., [0 .. max-2].

    Args:
        phone_questions: phone sets (cluster-phones output plus extra questions).
        max_num_pdf_classes: most pdf-classes of any phone in the topology.
        source: name for error messages.
        phones: the topology's phones; a question about another phone is an error.
    """
    known = None if phones is None else set(phones)
    sets = []
    for i, q in enumerate(phone_questions):
        q = sorted(int(p) for p in q)
        if len(set(q)) != len(q):
            raise AsrktError(f"{source}: question {i + 1} repeats a phone")
        if not q or q[0] <= 0:
            raise AsrktError(f"{source}: question {i + 1} is empty or has a phone id <= 0")
        if known is not None and not known.issuperset(q):
            raise AsrktError(f"{source}: question {i + 1} asks about phone "
                             f"{min(set(q) - known)}, which is not in the topology")
        sets.append(tuple(q))
    pdf_class = [tuple(range(i + 1)) for i in range(max_num_pdf_classes - 1)]
    return Questions(sorted(set(sets)), pdf_class)


def read_int_sets(path: PathLike, what: str = "phone sets") -> List[List[int]]:
    """Integer sets, one a line (phones/sets.int, extra_questions.int, questions.int).

    Args:
        path: the file (missing: an error).
        what: what the lines are, for messages.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: file of {what} does not exist")
    sets = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            sets.append([int(x) for x in line.split()])
        except ValueError:
            raise AsrktError(f"{where(path, lineno)}: expected integers ({what})") from None
    return sets


@dataclass
class Root:
    """One line of roots.int: phones sharing a tree root."""

    phones: Tuple[int, ...]
    shared: bool = True
    split: bool = True


def read_roots(path: PathLike) -> List[Root]:
    """Read phones/roots.int (``shared|not-shared split|not-split <phone ids>``).

    Args:
        path: the roots file.
    """
    path = Path(path)
    if not path.is_file():
        raise AsrktError(f"{path}: roots file does not exist (make the lang dir with "
                         f"'asrkt prepare-lang')")
    roots = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if (len(fields) < 3 or fields[0] not in ("shared", "not-shared")
                or fields[1] not in ("split", "not-split")):
            raise AsrktError(f"{where(path, lineno)}: expected 'shared|not-shared "
                             f"split|not-split <phone ids>'")
        try:
            phones = sorted(int(x) for x in fields[2:])
        except ValueError:
            raise AsrktError(f"{where(path, lineno)}: phone ids must be integers") from None
        if len(set(phones)) != len(phones) or phones[0] <= 0:
            raise AsrktError(f"{where(path, lineno)}: repeated or non-positive phone ids")
        roots.append(Root(tuple(phones), fields[0] == "shared", fields[1] == "split"))
    if not roots:
        raise AsrktError(f"{path}: empty roots file")
    return roots


def _check_roots(roots: Sequence[Root]) -> None:
    seen: Dict[int, int] = {}
    for i, root in enumerate(roots):
        if root.split and not root.shared:
            raise AsrktError(f"root {i + 1}: a not-shared root cannot be split (as in Kaldi)")
        for phone in root.phones:
            if phone in seen:
                raise AsrktError(f"phone {phone} is in roots {seen[phone] + 1} and {i + 1}")
            seen[phone] = i


# ---- 2-means phone clustering (cluster-phones) ------------------------------------------------
def _kmeans2_start(points: np.ndarray, rng: np.random.Generator
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """Kaldi's initial 2-means assignment: clusters 0, 1, 0, ... along a random stride coprime
    with the number of points. Returns (assignment, summed statistics of the two clusters)."""
    assign = _kmeans2_assignment(len(points), rng)
    return assign, _kmeans2_sums(points, assign)


def _kmeans2_assignment(n: int, rng: np.random.Generator) -> np.ndarray:
    """The initial assignment of :func:`_kmeans2_start` (one draw from ``rng``)."""
    skip = 1 if n == 1 else int(rng.integers(1, n))
    while math.gcd(skip, n) != 1:
        skip = skip % (n - 1) + 1
    assign = np.zeros(n, dtype=np.int64)
    steps = np.arange(n)
    assign[(steps * skip) % n] = steps % 2  # the k-th point visited gets k % 2
    return assign


def _kmeans2_sums(points: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """The summed statistics of the two clusters of an assignment."""
    return np.stack([points[assign == c].sum(axis=0) for c in (0, 1)])


def _kmeans2(points: np.ndarray, var_floor: float, tries: int, rng: np.random.Generator,
             num_iters: int = 20, refine_iters: int = 100) -> Tuple[float, np.ndarray]:
    """Kaldi's ClusterKMeans with two clusters: cyclic initial assignment over a random
    coprime stride, then moving single points while that improves the objective.

    Returns (objective improvement over one cluster, assignment 0/1 per point).

    A try whose initial assignment an earlier try had (few points have few coprime strides)
    ends where that one ended, with the same gain, which cannot beat it: it is skipped after
    drawing its stride, so the draws and the result are those of running it."""
    n = len(points)
    total = gauss_objf(points.sum(axis=0), var_floor)
    best_gain, best_assign = None, None
    seen = set()
    for _ in range(tries):
        assign = _kmeans2_assignment(n, rng)
        if assign.tobytes() in seen:
            continue
        seen.add(assign.tobytes())
        sums = _kmeans2_sums(points, assign)
        objf = gauss_objf(sums, var_floor)  # of the two clusters, kept up to date
        for _ in range(num_iters):
            any_moved = False
            for _ in range(refine_iters):
                changed = False
                p = 0
                while p < n:
                    # points p.. in turn: the first whose move to the other cluster improves
                    # the objective moves, then the scan goes on after it
                    own = assign[p:]
                    before = objf[0] + objf[1]
                    moved = np.concatenate([sums[own] - points[p:], sums[1 - own] + points[p:]])
                    new = gauss_objf(moved, var_floor)
                    m = n - p
                    better = np.flatnonzero(new[:m] + new[m:] > before + 1e-9 * abs(before))
                    if len(better) == 0:
                        break
                    k = int(better[0])
                    q, o = p + k, int(own[k])
                    sums[o], sums[1 - o] = moved[k], moved[m + k]
                    objf[o], objf[1 - o] = new[k], new[m + k]
                    assign[q] = 1 - o
                    changed = any_moved = True
                    p = q + 1
                if not changed:
                    break
            if not any_moved:
                break
        gain = float(objf.sum() - total)  # objf: each cluster's, as gauss_objf(sums) gives
        if best_gain is None or gain > best_gain:
            best_gain, best_assign = gain, assign.copy()
    return best_gain, best_assign


def cluster_phones(stats: TreeStats, phone_sets: Sequence[Sequence[int]],
                   pdf_classes: Sequence[int] = (1,), tries: int = 10,
                   seed: int = 0) -> List[List[int]]:
    """Kaldi's cluster-phones (AutomaticallyObtainQuestions): questions from the data.

    The statistics of ``pdf_classes`` are pooled per phone set, the sets are split top-down by
    2-means (best of ``tries`` random starts) until every cluster is one set or no split gains,
    and every cluster of that hierarchy (all phones included) and every input set is a
    question, sorted and unique.

    Args:
        stats: tree statistics.
        phone_sets: phone sets (phones/sets.int); each set is never split.
        pdf_classes: pdf-classes whose statistics are used (Kaldi: 1, the central state).
        tries: random restarts per 2-means split (Kaldi: 10).
        seed: seed of the random starts.
    """
    sets = [sorted(int(p) for p in s) for s in phone_sets]
    flat = [p for s in sets for p in s]
    if not sets or any(not s for s in sets):
        raise AsrktError("cluster-phones: empty phone set")
    if len(set(flat)) != len(flat):
        raise AsrktError("cluster-phones: a phone is in more than one phone set")
    central = stats.events[:, 1 + stats.central_position]
    keep = np.isin(stats.events[:, 0], list(pdf_classes))
    stacked = stats.stacked()
    points = np.zeros((len(sets), stacked.shape[1]))
    for i, s in enumerate(sets):
        points[i] = stacked[keep & np.isin(central, s)].sum(axis=0)
        if points[i, 0] == 0:
            logger.warning("cluster-phones: no statistics for phone set %s", " ".join(map(str, s)))
    rng = np.random.default_rng(seed)
    clusters: List[List[int]] = []
    pending = [list(range(len(sets)))]
    while pending:
        members = pending.pop()
        clusters.append(sorted(p for m in members for p in sets[m]))
        if len(members) <= 1:
            continue
        gain, assign = _kmeans2(points[members], stats.var_floor, tries, rng)
        if gain > 0 and 0 < assign.sum() < len(members):
            pending += [[m for m, a in zip(members, assign) if a == c] for c in (0, 1)]
    return sorted({tuple(c) for c in clusters + sets})


# ---- building ---------------------------------------------------------------------------------
class _Counter:
    def __init__(self, start: int = 0):
        self.value = start

    def next(self) -> int:
        self.value += 1
        return self.value - 1


def _stub_map(central: int, roots: Sequence[Root], phone2num_pdf_classes: Sequence[int],
              counter: _Counter) -> EventMap:
    """Kaldi's GetStubMap: halves of the root list split on the central phone; a shared root is
    one leaf, a not-shared root a table of leaves over its pdf-classes."""
    if len(roots) == 1:
        root = roots[0]
        if root.shared:
            return Leaf(counter.next())
        lengths = []
        for phone in root.phones:
            if phone >= len(phone2num_pdf_classes) or phone2num_pdf_classes[phone] <= 0:
                raise AsrktError(f"phone {phone} of the roots is not in the topology")
            lengths.append(phone2num_pdf_classes[phone])
        return Table(PDF_CLASS, tuple(Leaf(counter.next()) for _ in range(max(lengths))))
    half = len(roots) // 2
    first = _stub_map(central, roots[:half], phone2num_pdf_classes, counter)
    second = _stub_map(central, roots[half:], phone2num_pdf_classes, counter)
    yes_set = tuple(sorted(p for r in roots[:half] for p in r.phones))
    return Split(central, yes_set, first, second)


class _Splitter:
    """Kaldi's DecisionTreeSplitter: a leaf with its statistics and best split, or a split."""

    def __init__(self, builder: _Builder, leaf: int, rows: np.ndarray):
        self.b, self.leaf, self.rows = builder, leaf, rows
        self.yes: Optional[_Splitter] = None
        self.no: Optional[_Splitter] = None
        self.key, self.yes_set, self.best = 0, (), 0.0
        self._find_best_split()

    def _find_best_split(self) -> None:
        b, rows = self.b, self.rows
        n = len(rows)
        if n <= 1 or not b.askable:
            return
        # every askable key's values sorted at once (stable: each value's events in row
        # order), the events' statistics summed per value of each key in one reduceat (the
        # same sums, row after row, as key by key)
        order = b.key_values[:, rows].argsort(axis=1, kind="stable")
        ordered_rows = rows[order]  # [keys, n]
        sorted_values = b.key_values_flat[ordered_rows + b.key_offsets]
        first = np.empty(sorted_values.shape, dtype=bool)
        first[:, 0] = True
        np.not_equal(sorted_values[:, 1:], sorted_values[:, :-1], out=first[:, 1:])
        starts = first.ravel().nonzero()[0]
        present_all = sorted_values.ravel()[starts]
        per_value_all = np.add.reduceat(b.stacked[ordered_rows.ravel()], starts, axis=0)
        num_values = first.sum(axis=1).tolist()
        total_row = None  # the first askable key's sums, whatever their number, summed
        asked = []  # (key, number of questions, those evaluated, their yes and no sums)
        at = 0
        for key, yes_matrix, m in zip(b.askable, b.askable_matrices, num_values):
            present, per_value = present_all[at:at + m], per_value_all[at:at + m]
            at += m
            if key != PDF_CLASS and present[0] == ABSENT:
                continue  # key not defined for every event (ci-phones): not askable
            if total_row is None:
                total_row = per_value.sum(axis=0)
            if m == 1:
                continue  # one value: no question splits the events
            if present[-1] >= yes_matrix.shape[1]:  # a value no question asks about: a "no"
                present = np.minimum(present, yes_matrix.shape[1] - 1)
            inside = yes_matrix[:, present]
            n_yes = inside.sum(axis=1)
            # only questions with events on both sides gain; of questions that divide the
            # present values alike only the first is evaluated (argmax takes the first of
            # equal gains anyway)
            two_sided = ((n_yes > 0) & (n_yes < m)).nonzero()[0]
            if len(two_sided) == 0:
                continue
            if len(two_sided) > 1 and m <= 52:
                code = inside[two_sided] @ b.powers[:m]  # exact
                two_sided = two_sided[_first_of_each(code)]
            # at least two rows in a product whenever the full matrix has two: a one-row
            # product takes BLAS's gemv path, whose sums can differ in the last bit
            sel = two_sided if len(two_sided) != 1 or len(n_yes) == 1 else two_sided[[0, 0]]
            yes_side = inside[sel]
            yes = yes_side @ per_value
            no = (1.0 - yes_side) @ per_value  # the 0/1 complement: exact
            asked.append((key, len(n_yes), two_sided, yes[:len(two_sided)],
                          no[:len(two_sided)]))
        if not asked:
            return
        # one objective evaluation for the yes and no sides of every question of every key
        # that has events on both sides (the others gain nothing) and, last, the total
        objf = gauss_objf(np.concatenate([a[i] for a in asked for i in (3, 4)]
                                         + [total_row[None]]), b.var_floor)
        total = objf[-1]
        at = 0
        for key, num_questions, two_sided, _, _ in asked:
            q = len(two_sided)
            gain = np.zeros(num_questions)
            gain[two_sided] = objf[at:at + q] + objf[at + q:at + 2 * q] - total
            at += 2 * q
            best = int(gain.argmax())
            if gain[best] > self.best:
                self.best = float(gain[best])
                self.key = key
                self.yes_set = b.questions.for_key(key)[best]

    def split(self, counter: _Counter) -> None:
        if self.yes is None:
            values = self.b.events[self.rows, self.key + 1]
            inside = _in_set(values, self.yes_set)
            self.yes = _Splitter(self.b, self.leaf, self.rows[inside])
            self.no = _Splitter(self.b, counter.next(), self.rows[~inside])
            self.rows = self.rows[:0]
        else:
            (self.yes if self.yes.best >= self.no.best else self.no).split(counter)
        self.best = max(self.yes.best, self.no.best)

    def answer_rows(self, leaf_of: np.ndarray) -> None:
        """Write the leaf of each of its events into ``leaf_of`` (the events' answers of its
        event map, as map_rows would give them: each split divided them by its question)."""
        if self.yes is None:
            leaf_of[self.rows] = self.leaf
        else:
            self.yes.answer_rows(leaf_of)
            self.no.answer_rows(leaf_of)

    def event_map(self) -> EventMap:
        if self.yes is None:
            return Leaf(self.leaf)
        return Split(self.key, self.yes_set, self.yes.event_map(), self.no.event_map())


class _Builder:
    def __init__(self, stats: TreeStats, questions: Questions):
        self.events, self.stacked, self.var_floor = stats.events, stats.stacked(), stats.var_floor
        self.questions = questions
        self.keys = [PDF_CLASS] + list(range(stats.context_width))
        asked = [max(q) for q in questions.phone + questions.pdf_class if q]
        width = int(max([stats.events.max()] + asked)) + 1
        # each key's column of the events, contiguous; 2^i for the codes of questions
        self.columns = {key: np.ascontiguousarray(stats.events[:, key + 1]) for key in self.keys}
        self.powers = np.exp2(np.arange(53))
        self.matrices: Dict[int, Optional[np.ndarray]] = {}  # 1.0 where question i holds
        for key in self.keys:
            sets = questions.for_key(key)
            if not sets:
                self.matrices[key] = None
                continue
            m = np.zeros((len(sets), width + 1), dtype=bool)  # last column: never asked
            for i, q in enumerate(sets):
                m[i, list(q)] = True
            self.matrices[key] = m.astype(np.float64)
        # the keys with questions, in order: their matrices and values (one row per key,
        # also flat with each key's offset, for gathering sorted values in one step)
        self.askable = [key for key in self.keys if self.matrices[key] is not None]
        self.askable_matrices = [self.matrices[key] for key in self.askable]
        num_events = len(stats.events)
        self.key_values = np.ascontiguousarray(stats.events[:, [key + 1 for key in self.askable]].T)
        self.key_values_flat = self.key_values.ravel()
        self.key_offsets = (np.arange(len(self.askable)) * num_events)[:, None]


def _first_of_each(values: np.ndarray) -> np.ndarray:
    """The index of each distinct value's first occurrence, in increasing order (what
    ``np.sort(np.unique(values, return_index=True)[1])`` gives, with less overhead)."""
    order = values.argsort(kind="stable")
    ordered = values[order]
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    indices = order[first]
    indices.sort()
    return indices


def _pair_objf(sums: np.ndarray, var_floor: float) -> np.ndarray:
    """The objective of every pair's merged statistics ``sums[i] + sums[j]``, j < i, in the
    order (1, 0), (2, 0), (2, 1), (3, 0), ...: one evaluation for all (each row's value is
    that of evaluating the row alone)."""
    n = len(sums)
    if n < 2:
        return np.zeros(0)
    i, j = _pairs(n)
    return gauss_objf(sums[i] + sums[j], var_floor)


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> Tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(n, -1)``: (1, 0), (2, 0), (2, 1), ... row by row (kept, read-only)."""
    pairs = np.tril_indices(n, -1)
    for index in pairs:
        index.flags.writeable = False
    return pairs


def _bottom_up(points: np.ndarray, thresh: float, var_floor: float) -> np.ndarray:
    """Kaldi's ClusterBottomUp: merge the pair of clusters whose merge costs least while it
    costs at most ``thresh``; returns the cluster (0..k-1, in index order) of each point."""
    n = len(points)
    sums = points.copy()
    objf = gauss_objf(sums, var_floor)
    dist = np.full((n, n), np.inf)
    heap: List[Tuple[float, int, int]] = []
    merged = _pair_objf(sums, var_floor)
    for i in range(1, n):
        d = objf[i] + objf[:i] - merged[i * (i - 1) // 2:i * (i + 1) // 2]
        dist[i, :i] = d
        heap += [(float(d[j]), i, j) for j in range(i) if d[j] <= thresh]
    heapq.heapify(heap)
    alive = np.ones(n, dtype=bool)
    parent = np.arange(n)
    while heap:
        d, i, j = heapq.heappop(heap)
        if not (alive[i] and alive[j]) or abs(dist[i, j] - d) > 1e-5 * abs(d):
            continue
        sums[i] += sums[j]
        objf[i] = gauss_objf(sums[i], var_floor)
        alive[j] = False
        parent[j] = i
        others = np.flatnonzero(alive)
        others = others[others != i]
        new = objf[i] + objf[others] - gauss_objf(sums[i] + sums[others], var_floor)
        for k, dk in zip(others.tolist(), new.tolist()):
            a, c = (i, k) if k < i else (k, i)
            dist[a, c] = dk
            if dk < thresh:
                heapq.heappush(heap, (dk, a, c))
    root = np.arange(n)
    for p in range(n):
        r = p
        while parent[r] != r:
            r = parent[r]
        root[p] = r
    rank = np.cumsum(alive) - 1
    return rank[root]


def _bottom_up_to_n(groups: List[np.ndarray], min_clusters: int, var_floor: float
                    ) -> List[np.ndarray]:
    """Kaldi's ClusterBottomUpCompartmentalized without a threshold: merge the pair of clusters
    of one group whose merge costs least, over all groups, until at most ``min_clusters``
    clusters are left; returns each group's cluster (0..k-1, in index order) of each point."""
    sums = [g.copy() for g in groups]
    objf = [gauss_objf(g, var_floor) for g in sums]
    alive = [np.ones(len(g), dtype=bool) for g in groups]
    parent = [np.arange(len(g)) for g in groups]
    dist = [np.full((len(g), len(g)), np.inf) for g in groups]
    heap: List[Tuple[float, int, int, int]] = []
    for c, g in enumerate(sums):
        merged = _pair_objf(g, var_floor)
        for i in range(1, len(g)):
            d = np.maximum(objf[c][i] + objf[c][:i] - merged[i * (i - 1) // 2:i * (i + 1) // 2],
                           0.0)
            dist[c][i, :i] = d
            heap += [(float(d[j]), c, i, j) for j in range(i)]
    heapq.heapify(heap)
    clusters = sum(len(g) for g in groups)
    while clusters > min_clusters and heap:
        d, c, i, j = heapq.heappop(heap)
        if not (alive[c][i] and alive[c][j]) or abs(dist[c][i, j] - d) > 1e-5 * abs(d):
            continue
        sums[c][i] += sums[c][j]
        objf[c][i] = gauss_objf(sums[c][i], var_floor)
        alive[c][j] = False
        parent[c][j] = i
        clusters -= 1
        others = np.flatnonzero(alive[c])
        others = others[others != i]
        new = np.maximum(objf[c][i] + objf[c][others]
                         - gauss_objf(sums[c][i] + sums[c][others], var_floor), 0.0)
        for k, dk in zip(others.tolist(), new.tolist()):
            a, b = (i, k) if k < i else (k, i)
            dist[c][a, b] = dk
            heapq.heappush(heap, (dk, c, a, b))
    out = []
    for c in range(len(groups)):
        root = np.arange(len(groups[c]))
        for p in range(len(root)):
            r = p
            while parent[c][r] != r:
                r = parent[c][r]
            root[p] = r
        out.append((np.cumsum(alive[c]) - 1)[root])
    return out


def _merge_within_stub(tree: EventMap, leaf_of: np.ndarray, stacked: np.ndarray,
                       stub_leaf: np.ndarray, merge) -> Tuple[EventMap, np.ndarray, int]:
    """The leaves of ``tree`` grouped by the stub leaf their statistics fall in, merged as
    ``merge(list of [leaves, 1 + 2D] summed statistics per group)`` assigns them (Kaldi's
    ClusterEventMap*RestrictedByMap); cluster a of a group takes the number of the group's a-th
    leaf, as Kaldi's, so that the renumbered tree numbers its leaves as Kaldi's does.

    Args:
        leaf_of: the tree's answer for every event of the statistics (:func:`map_rows`).

    Returns:
        (the tree with merged leaves, not renumbered; its answer for every event, as
        :func:`map_rows` gives it; the number of leaves removed)
    """
    # the summed statistics of every (stub leaf, leaf) pair, the events added in row order
    pair = stub_leaf * (int(leaf_of.max()) + 1) + leaf_of
    order = np.argsort(pair, kind="stable")
    first = np.flatnonzero(np.concatenate(([True], pair[order][1:] != pair[order][:-1])))
    summed = np.add.reduceat(stacked[order], first, axis=0)
    group_of, leaf_at = stub_leaf[order[first]], leaf_of[order[first]]
    cuts = np.flatnonzero(np.diff(group_of)) + 1
    presents = np.split(leaf_at, cuts)
    points = np.split(summed, cuts)
    mapping: Dict[int, EventMap] = {}
    new_answer = np.arange(int(leaf_of.max()) + 1)
    removed = 0
    for present, assign in zip(presents, merge(points)):
        removed += len(present) - (int(assign.max()) + 1)
        for k, leaf in enumerate(present.tolist()):
            mapping[leaf] = Leaf(int(present[assign[k]]))
            new_answer[leaf] = mapping[leaf].answer
    # merging replaces leaves only: the events reach the same leaves, now with new answers
    return map_leaves(tree, mapping), new_answer[leaf_of], removed


def _renumber(node: EventMap, leaf_of: np.ndarray) -> Tuple[EventMap, np.ndarray]:
    """Kaldi's RenumberEventMap: answers to 0..n-1 in increasing order; with the renumbered
    answer of every event (``leaf_of``: the old answers)."""
    old = sorted(set(leaves(node)))
    return (map_leaves(node, {a: Leaf(i) for i, a in enumerate(old)}),
            np.searchsorted(np.array(old), leaf_of))


def _objf_given_map(answers: np.ndarray, stats: TreeStats, stacked: np.ndarray) -> float:
    """The objective of the statistics summed per answer (``answers``: each event's)."""
    summed = np.zeros((answers.max() + 1, stacked.shape[1]))
    np.add.at(summed, answers, stacked)
    return float(np.sum(gauss_objf(summed, stats.var_floor)))


def build_tree(stats: TreeStats, questions: Questions, roots: Sequence[Root],
               phone2num_pdf_classes: Sequence[int],
               config: Optional[TreeConfig] = None) -> Tree:
    """Kaldi's build-tree: stub map from the roots, greedy splitting, leaf clustering.

    Args:
        stats: tree statistics (:func:`asrkt.hmm.tree_stats.accumulate_tree_stats`).
        questions: :func:`compile_questions` output.
        roots: :func:`read_roots` output (one root per phone set).
        phone2num_pdf_classes: pdf-classes per phone id (``topo.get_phone_to_num_pdf_classes()``).
        config: num_leaves, thresh, cluster_thresh (Kaldi's defaults when None).

    Returns:
        The tree, checked to cover every phone context of the topology.
    """
    config = config or TreeConfig()
    config.validate()
    if stats.num_events == 0:
        raise AsrktError("no tree statistics to build a tree from")
    _check_roots(roots)
    p = stats.central_position
    counter = _Counter()
    stub = _stub_map(p, roots, phone2num_pdf_classes, counter)
    num_stub = counter.value
    central = stats.events[:, 1 + p]
    in_roots = np.isin(central, [ph for r in roots for ph in r.phones])
    if not in_roots.all():
        raise AsrktError(f"phone {int(central[~in_roots][0])} has statistics but is not in the "
                         f"roots file")
    stub_leaf = map_rows(stub, stats.events)
    unsplit = [ph for r in roots if not r.split for ph in r.phones]
    splittable = ~np.isin(central, unsplit)
    builder = _Builder(stats, questions)
    splitters = [_Splitter(builder, leaf, np.flatnonzero((stub_leaf == leaf) & splittable))
                 for leaf in range(num_stub)]
    heap = [(-s.best, -i) for i, s in enumerate(splitters)]
    heapq.heapify(heap)
    smallest, improvement, splits = 1.0e20, 0.0, 0
    while (-heap[0][0] > config.thresh
           and (config.num_leaves <= 0 or counter.value < config.num_leaves)):
        gain, i = -heap[0][0], -heap[0][1]
        smallest = min(smallest, gain)
        improvement += gain
        splitters[i].split(counter)
        heapq.heapreplace(heap, (-splitters[i].best, -i))
        splits += 1
    split_tree = map_leaves(stub, {i: s.event_map() for i, s in enumerate(splitters)})
    stacked = stats.stacked()
    normalizer = float(stats.counts.sum())
    summary = {"stub_leaves": num_stub, "splits": splits, "leaves_after_split": counter.value,
               "split_gain_per_frame": improvement / normalizer, "frames": normalizer}
    cluster_thresh = smallest if config.cluster_thresh < 0 else config.cluster_thresh
    tree = split_tree
    if cluster_thresh != 0.0 or config.round_num_leaves:
        # the split tree's answer for every event (kept up to date by the merges): the
        # splitters' leaves for theirs, the stub leaf for the events of roots not split
        leaf_of = stub_leaf.copy()
        for splitter in splitters:
            splitter.answer_rows(leaf_of)
        before = _objf_given_map(leaf_of, stats, stacked)
        removed = rounded = 0
        if cluster_thresh != 0.0:
            tree, leaf_of, removed = _merge_within_stub(
                tree, leaf_of, stacked, stub_leaf,
                lambda groups: [_bottom_up(g, cluster_thresh, stats.var_floor) for g in groups])
            summary.update(cluster_thresh=cluster_thresh, leaves_merged=removed)
        if config.round_num_leaves:
            # build-tree's --round-num-leaves: down to a multiple of 8 by the cheapest merges
            # within the stub leaves (ClusterEventMapToNClustersRestrictedByMap); a stub leaf
            # without statistics keeps its one leaf
            required = ((counter.value - removed) // 8) * 8
            compartments = int(stub_leaf.max()) + 1
            empty = compartments - len(np.unique(stub_leaf))
            if required >= compartments:
                tree, leaf_of, rounded = _merge_within_stub(
                    tree, leaf_of, stacked, stub_leaf,
                    lambda groups: _bottom_up_to_n(groups, required - empty, stats.var_floor))
            summary["leaves_rounded"] = rounded
        tree, leaf_of = _renumber(tree, leaf_of)
        after = _objf_given_map(leaf_of, stats, stacked)
        summary["cluster_change_per_frame"] = (after - before) / normalizer
    result = Tree(stats.context_width, p, tree, summary)
    summary["leaves"] = result.num_pdfs
    result.check(phone2num_pdf_classes, "built tree")
    logger.info("build-tree: %d stub leaves, %d splits (likelihood +%.4f per frame over %.0f "
                "frames), clustering threshold %g merged %d leaves, rounding to a multiple of 8 "
                "%d more (%.4f per frame): %d leaves",
                num_stub, splits, summary["split_gain_per_frame"], normalizer,
                summary.get("cluster_thresh", 0.0), summary.get("leaves_merged", 0),
                summary.get("leaves_rounded", 0), summary.get("cluster_change_per_frame", 0.0),
                summary["leaves"])
    return result
