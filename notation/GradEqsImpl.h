//===- notation/GradEqsImpl.h - State of the grad-eqs printer -------------===//
//
// GradStructure.cpp pairs each backward region with the forward region it
// differentiates (the top level; a backward loop's body with the forward
// loop's body), cuts the forward ops into equations, finds the equation each
// backward op came from and decides how each value is read. GradLines.cpp
// builds the displayed lines and prints them. Nothing outside notation/
// includes this header.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "notation/EqRender.h"
#include "notation/EqSource.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace gradc::notation {

/// Consecutive forward ops computing one equation (or one recurrence).
struct Segment {
  enum Kind { Equation, Group, Leaf, Unknown };
  Kind kind = Unknown;
  int eq = -1;                   ///< Equation: the model equation
  std::vector<std::string> tensors; ///< what it defines (display names)
  const ir::Op *first = nullptr;    ///< its first forward op
  const ir::Op *rec = nullptr;      ///< Group: the forward recurrence
};

/// What a block shows: a line, or a nested backward loop.
struct Item {
  int line = -1;
  int loop = -1; ///< index into GradEqs::pairs_
};

/// A backward region and the forward region it differentiates.
struct Pair {
  int depth = 0; ///< loops around the backward region
  std::string stepName; ///< the displayed name of the loop's step
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
  GradEqs(const ir::Graph &g, const sema::Model &m, const SourceManager &sm)
      : g_(g), src_(m, sm) {}
  std::string run();

private:
  // GradStructure.cpp
  int buildPair(int depth, const ir::Op *fwdRec, const ir::Op *bwdRec);
  void findClones(Pair &p);
  void cutSegments(Pair &p);
  void matchSweep(Pair &p);
  void countUses(const ir::Region &r);
  void forwardViews(const ir::Region &r, int depth);
  void recurrenceViews(const ir::Op &rec);
  /// Operators a one-use-at-a-time inlining of v repeats (reads are free).
  int inlineCost(const ir::Value *v) const;
  void backwardViews(const Pair &p);
  bool derivedSlots(const ir::Value *v, View &out, int depthLimit) const;
  bool sameOp(const Pair &p, const ir::Op &fwd, const ir::Op &clone) const;
  const ir::Value *canon(const ir::Value *v) const;
  void mapClone(const ir::Op &clone, const ir::Op &original);
  void decideMaterialized(const Pair &p);
  std::vector<const ir::Value *> terms(const ir::Value *root) const;
  std::string displayName(const ir::Value *v) const;

  // GradLines.cpp
  void buildLines(int pair);
  void chainLines(int pair, const ir::Value *root);
  void yieldLines(int pair);
  /// target[u...] = rhs (or +=) at plain variables u over the axes of
  /// `shapeOf`; `ownOp`: rhs's defining op, else rhs read as a value.
  void defineLine(int pair, int block, const View &target, const ir::Value *shapeOf,
                  bool accumulate, const ir::Value *rhs, bool ownOp);
  void statementLine(int pair, int block, const ir::Op &op, const View &target);
  /// The block a line adding v into `target` belongs to.
  int placeOf(const Pair &p, const ir::Value *v, int fallback, const std::string &target) const;
  std::string stepName(const Pair &p);
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
  std::set<std::string> shownNames_;      ///< tensors the IR has values of
  /// Names the lines defining δ values gave their axes, for later lines.
  std::map<std::pair<std::string, int>, std::string> localNames_;
};

/// True for names the IR gives temporaries ("%12").
bool isTemp(const ir::Value *v);

} // namespace gradc::notation
