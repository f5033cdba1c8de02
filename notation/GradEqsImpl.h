//===- notation/GradEqsImpl.h - State of the grad-eqs printer -------------===//
//
// GradStructure.cpp pairs each backward region with the forward region it
// differentiates (the top level; a backward loop's body with the forward
// loop's body), cuts the forward ops into equations and finds the equation
// each backward op came from; GradViews.cpp decides how each value is read;
// GradLines.cpp builds the displayed lines and prints them. Nothing outside
// notation/ includes this header.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "notation/EqRender.h"
#include "notation/EqSource.h"
#include "notation/GradEquations.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace gradc::notation {

/// Consecutive forward ops computing one equation (or one recurrence).
struct Segment {
  enum Kind { Equation, Group, Leaf, Unknown };
  Kind kind = Unknown;
  int eq = -1;                      ///< Equation: the model equation
  std::vector<std::string> tensors; ///< what it defines (display names)
  const ir::Op *first = nullptr;    ///< its first forward op
};

/// What a block shows: a line, or a nested backward loop.
struct Item {
  int line = -1;
  int loop = -1; ///< index into GradEqs::pairs_
};

/// A backward region and the forward region it differentiates.
struct Pair {
  int depth = 0;                                     ///< loops around the backward region
  std::string stepName;                              ///< the displayed name of the loop's step
  const ir::Op *fwdRec = nullptr, *bwdRec = nullptr; ///< null at the top level
  std::vector<const ir::Op *> fwdOps;                ///< forward ops, yield excluded
  std::vector<const ir::Op *> sweep; ///< backward ops, recomputed ones and yield excluded
  std::map<const ir::Op *, const ir::Op *> cloneOf; ///< recomputed op -> its original
  std::vector<Segment> segments;                    ///< in forward order
  std::map<const ir::Op *, int> segmentOf;          ///< forward op -> segment
  std::map<const ir::Op *, int> blockOf;            ///< sweep op -> segment, or -1
  std::map<const ir::Op *, const ir::Op *> matched; ///< sweep op -> its forward op
  std::map<std::string, int> segmentOfTensor;
  std::map<const ir::Op *, int> loops;    ///< backward loop op -> its pair
  std::map<int, std::vector<Item>> items; ///< per segment (-1: none found)
};

class GradEqs {
public:
  GradEqs(const ir::Graph &g, const sema::Model &m, const SourceManager &sm) : g_(g), src_(m, sm) {}
  /// Builds and prints the equations.
  std::string run();
  /// The equations run() printed, as data.
  std::vector<GradItem> items(int pair = 0) const;

private:
  // GradStructure.cpp
  int buildPair(int depth, const ir::Op *fwdRec, const ir::Op *bwdRec);
  /// Matches the start of a backward body, which recomputes the forward
  /// step, to the forward ops it copies.
  void findClones(Pair &p);
  bool sameOp(const ir::Op &fwd, const ir::Op &clone) const;
  void mapClone(const ir::Op &clone, const ir::Op &original);
  /// The forward value a recomputed one copies, or v itself.
  const ir::Value *canon(const ir::Value *v) const;
  void cutSegments(Pair &p);
  void matchSweep(Pair &p);
  void countUses(const ir::Region &r);
  /// The model tensor (or grad.tensor) a value stands for, else its name.
  std::string displayName(const ir::Value *v) const;

  // GradViews.cpp
  void forwardViews(const ir::Region &r, int depth);
  void recurrenceViews(const ir::Op &rec);
  /// An inner loop runs along `slot` of the outer loop's storage `storage`
  /// extended by `offset`: the outer views of that storage shift too.
  void extendOuter(const ir::Value *storage, int slot, int64_t offset);
  void backwardViews(const Pair &p);
  /// The step slots of an elementwise value computed from a step value.
  bool derivedSlots(const ir::Value *v, View &out, int depthLimit) const;
  /// Operators a one-use-at-a-time inlining of v repeats (reads are free).
  int inlineCost(const ir::Value *v) const;
  void decideMaterialized(const Pair &p);
  /// Gives the temporary v a line and a δ name.
  void nameDelta(const Pair &p, const ir::Value *v);
  /// The contributions summed into `root` (an accumulation of adds).
  std::vector<const ir::Value *> terms(const ir::Value *root) const;

  // GradLines.cpp
  void buildLines(int pair);
  void chainLines(int pair, const ir::Value *root);
  void yieldLines(int pair);
  /// target[u...] = rhs (or +=) at plain variables u over the axes of
  /// `shapeOf`; `ownOp`: rhs's defining op, else rhs read as a value.
  void defineLine(int pair, int block, const View &target, const ir::Value *shapeOf,
                  bool accumulate, const ir::Value *rhs, bool ownOp);
  void statementLine(int pair, int block, const ir::Op &op, const View &target);
  /// Per target slot, the size of the tensor's own positions (storage may
  /// add boundary positions), and the boundary storage positions where rhs
  /// may be nonzero.
  std::vector<int64_t> ownExtents(const View &target, const ir::Value *shapeOf) const;
  std::vector<std::vector<int64_t>> boundaryOf(const View &target, const ir::Value *shapeOf,
                                               const ir::Value *rhs) const;
  /// target[...] = 0 over the axes of `shapeOf` (all of them plain).
  void zeroLine(int pair, int block, const View &target, const ir::Value *shapeOf);
  /// The block a line adding v into `target` belongs to.
  int placeOf(const Pair &p, const ir::Value *v, int fallback, const std::string &target) const;
  std::string stepName(const Pair &p);
  /// Segments in display order: lines of no equation, then the equations
  /// last to first, then the leaves (parameters the loss does not use).
  std::vector<int> blockOrder(const Pair &p) const;
  void printPair(int pair, int indent, std::string &out);
  void printLineAt(int pair, int segment, int line, int indent, std::string &out);
  std::string blockHeader(const Pair &p, int segment) const;

  const ir::Graph &g_;
  SourceInfo src_;
  Renderer R_;
  std::vector<std::unique_ptr<Pair>> pairs_;
  std::vector<Line> lines_;
  std::map<const ir::Value *, int> uses_;
  std::set<const ir::Value *> crossRegion_; ///< used outside the region defining it
  std::set<const ir::Value *> recOperands_;
  std::map<const ir::Value *, const ir::Value *> originalOf_; ///< recomputed -> forward value
  std::set<const ir::Value *> materialized_;
  std::set<const ir::Value *> absorbed_;   ///< statements folded into their one use
  std::set<const ir::Value *> pureSlices_; ///< named reads of loop storage: no line
  /// Forward step values of each forward loop, by tensor: h[b,t,j] at step t.
  std::map<const ir::Op *, std::map<std::string, View>> stepViews_;
  std::map<std::string, int> deltaNames_; ///< δ names given, for numbering
  std::map<const ir::Op *, int> pairOf_;  ///< backward op -> the pair showing it
  /// Recurrence storage: value -> (loop, carried index).
  std::map<const ir::Value *, std::pair<const ir::Op *, int>> storageOf_;
  std::set<std::tuple<const ir::Op *, int, int>> shifted_; ///< extendOuter done
  /// A forward loop's final storage -> its carried argument.
  std::map<const ir::Value *, const ir::Value *> argOfResult_;
  std::set<std::string> shownNames_; ///< tensors the IR has values of
  /// Names the lines defining δ values gave their axes, for later lines.
  std::map<std::pair<std::string, int>, std::string> localNames_;
};

/// True for names the IR gives temporaries ("%12").
bool isTemp(const ir::Value *v);
/// Inputs, parameters, state and noise.
bool isLeaf(const ir::Op &op);
/// A constant 0 (of any shape).
bool isZero(const ir::Value *v);
/// A forward recurrence (or its recomputed copy) sets its steps; a backward
/// loop adds into its storage.
bool setsSteps(const ir::Op &rec);

} // namespace gradc::notation
