//===- passes/Remat.h - Checkpointed recurrences (--remat) -----------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace gradc::passes {

/// What segmentRecurrences() did to one top-level recurrence.
struct RematReport {
  SourceLoc loc;
  bool segmented = false;
  int64_t steps = 0, segments = 0, segmentLength = 0;
  std::string reason; ///< why it was left alone, when it was
};

/// Rewrites every top-level recurrence whose state is read only a bounded
/// number of steps back (h[t-1], c[t-2]) into a loop over segments of about
/// √T steps that keeps, per segment, only the checkpoint window the next
/// segment starts from, and runs the steps of a segment in an inner loop
/// over a segment-sized buffer. Tensors also read outside the loop are still
/// stored for every step (the model itself holds them); the others are kept
/// at the checkpoints only. Autodiff then reverses the outer loop by
/// recomputing each segment from its checkpoint, which is √T checkpointing.
/// Call before differentiate().
std::vector<RematReport> segmentRecurrences(ir::Graph &g);

} // namespace gradc::passes
