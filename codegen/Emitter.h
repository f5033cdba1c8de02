//===- codegen/Emitter.h - Lowering a graph's kernels to LLVM IR ----------===//
//
// One LLVM module per graph. Each kernel (today one IR op; the fusion passes
// will hand over groups of ops through the same KernelPlan) becomes one
// function named after the equation it computes, running the iterations
// [begin, end) of its outermost loop; the entry functions call the kernels
// in order, through the thread pool where the loop is worth splitting, and
// run recurrences as plain loops over their steps (never unrolled, so code
// size does not grow with the sequence length).
//
// The emitter is split by concern: this header and Emitter.cpp (module,
// context, entries, recurrences), EmitLoops.cpp (loop nests and index-map
// addressing), EmitElementwise.cpp, EmitMaps.cpp (remap, scatter_add,
// contract), EmitGemm.cpp (contractions shaped like matrix products) and
// EmitReduce.cpp (reductions and normalizations).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/MemoryPlan.h"
#include "ir/Graph.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace gradc::codegen {

/// What a kernel did, for messages at run time.
struct KernelInfo {
  std::string name; ///< the LLVM function's name
  SourceLoc loc;    ///< the equation
  // For a kernel that reads positions from an int tensor: which tensor, the
  // offset added to its values, the size they must stay under, and what the
  // positions address ("reading 'E'"), so that a fault can be reported as
  // the interpreter reports it, with the offending value.
  std::string index;
  int64_t offset = 0, bound = 0;
  std::string what;
  /// The op's kind as `gradc bench --profile` groups kernels: its mnemonic,
  /// or "gemm" for a contraction handed to the GEMM kernel.
  std::string kind;
};

/// One LLVM module in a context of its own, so that the shards of a graph
/// can be optimized and compiled on separate threads.
struct Shard {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> mod;
};

struct EmitOptions {
  /// Contractions with at least this many multiply-adds (M·N·K) go to the
  /// GEMM kernel when shaped like a matrix product.
  int64_t gemmMinFlops = 4096;
  /// Loops with fewer elements than this run on the calling thread.
  int64_t parallelMinElements = 16384;
  /// Time every kernel call into KernelContext::ticks (gradc bench --profile).
  bool profile = false;
  /// The target's vector registers: 32 with AVX-512, 16 with AVX2 (set
  /// from the host by the JIT; register blocking sizes its accumulators by it).
  int vectorRegisters = 16;
};

/// Builds the module for `g`; see the file comment.
class Emitter {
public:
  /// `shards` modules: the entry functions go to the first, the kernels
  /// round-robin to all of them.
  Emitter(const ir::Graph &g, const MemoryPlan &plan, EmitOptions opts, int shards = 1);
  ~Emitter();
  /// Emits every kernel and the entry functions gradc_forward (the ops not
  /// produced by autodiff) and gradc_backward (the rest; empty without a
  /// backward pass).
  std::vector<Shard> emit(const std::string &moduleName);
  const std::vector<KernelInfo> &kernels() const { return kernels_; }

  // --- Shared by the Emit*.cpp files -------------------------------------
  using Loops = std::vector<llvm::Value *>;

  /// The state of the kernel being emitted.
  struct KernelState {
    llvm::Function *fn = nullptr;
    llvm::Value *ctx = nullptr, *begin = nullptr, *end = nullptr;
    int id = 0;
    llvm::Value *fault = nullptr; ///< an i1 alloca, set where an index is out of range
    std::map<const ir::Value *, llvm::Value *> bases; ///< base pointers loaded once
    /// Loads and stores of tensor elements, with the storage slot each
    /// touches (an arena offset, or -1 - leaf index), for markDisjointTensors.
    std::vector<std::pair<llvm::Instruction *, int64_t>> accesses;
  };

  llvm::IRBuilder<> &b() { return *b_; }
  llvm::LLVMContext &llvmContext() { return *lctx_; }
  llvm::Module &module() { return *mod_; }
  const MemoryPlan &plan() const { return plan_; }
  const EmitOptions &options() const { return opts_; }
  KernelState &kernel() { return ks_; }
  llvm::Type *f32() { return b_->getFloatTy(); }
  llvm::Type *i32() { return b_->getInt32Ty(); }
  llvm::Type *i64() { return b_->getInt64Ty(); }
  llvm::Type *ptr() { return b_->getPtrTy(); }
  llvm::Value *c64(int64_t v) { return b_->getInt64(static_cast<uint64_t>(v)); }

  /// Emits `for (i = lo; i < hi; ++i) body(i)`; the builder ends after it.
  void loop(llvm::Value *lo, llvm::Value *hi, const std::function<void(llvm::Value *)> &body,
            const std::string &name = "i");
  /// Nested loops over `extents` (outermost first); the outermost runs over
  /// [kernel begin, kernel end) when `split`, else over its whole extent.
  void loopNest(const std::vector<int64_t> &extents, bool split,
                const std::function<void(const Loops &)> &body);
  /// Row-major linear index of `idx` in `shape`.
  llvm::Value *linear(const std::vector<int64_t> &shape, const Loops &idx);

  /// The base pointer of a value's storage (loaded once per kernel).
  llvm::Value *base(const ir::Value *v);
  /// The current value of step variable `step` (a recurrence body's arg 0).
  llvm::Value *stepValue(const ir::Value *step);
  /// Element `offset` of `v` as f32 (ints converted); an inline constant is
  /// returned directly.
  llvm::Value *loadF32(const ir::Value *v, llvm::Value *offset);
  /// Element `offset` of an i32 tensor as i64.
  llvm::Value *loadIndex(const ir::Value *v, llvm::Value *offset);
  /// Stores an f32 value into `v` (converting for an i32 tensor).
  void storeF32(const ir::Value *v, llvm::Value *offset, llvm::Value *x);
  /// Records `access` (a load or store of an element of `v`) for
  /// markDisjointTensors; returns it.
  llvm::Instruction *tagged(llvm::Instruction *access, const ir::Value *v);
  /// Tells LLVM that the kernel's accesses of different tensors never
  /// overlap (alias-scope metadata); called when its body is complete.
  void markDisjointTensors();

  /// Where an op's loop point lands in a tensor read (or written) through
  /// `map`: the linear offset, and whether it is inside the tensor (null
  /// when it provably always is, or the axis is trusted()). An
  /// indirect position out of range sets the kernel's fault flag and reads
  /// element 0 instead.
  struct Access {
    llvm::Value *offset = nullptr;
    llvm::Value *inBounds = nullptr;
    Loops at; ///< the position along each axis (clamped where it may leave it)
  };
  Access access(const ir::Op &op, const ir::IndexMap &map, const std::vector<int64_t> &shape,
                const Loops &loops, const std::vector<int64_t> &loopExtents);
  /// Reads operand `k` of `op` through `map`: 0 where out of bounds.
  llvm::Value *readThrough(const ir::Op &op, int k, const ir::IndexMap &map, const Loops &loops,
                           const std::vector<int64_t> &loopExtents);

  /// For a direct contraction (EmitDirect.cpp): whether every position at
  /// which the block of U points at `outer` reads factor `af` is inside it,
  /// on the axes `skip` does not mark; null when that holds everywhere.
  llvm::Value *blockInside(const ir::Op &op, int af, const Loops &outer, int U,
                           const std::vector<int64_t> &extents, const std::vector<bool> &skip);

  /// Narrows [lo[var], hi[var]) of summed variable `var` to the values
  /// that keep `pos` (c·r + outer terms) inside [0, size): EmitDirect.cpp.
  void clipToAxis(const ir::Affine &pos, int var, int R, const Loops &outer, int64_t size,
                  std::vector<llvm::Value *> &lo, std::vector<llvm::Value *> &hi);

  /// The least and greatest value of `a` over the op's loops and steps.
  std::pair<int64_t, int64_t> range(const ir::Op &op, const ir::Affine &a,
                                    const std::vector<int64_t> &loopExtents) const;

  // Kernel bodies, one per op class.
  void emitElementwise(const ir::Op &op);
  void emitFill(const ir::Op &op);
  void emitRemap(const ir::Op &op);
  void emitScatterAdd(const ir::Op &op);
  /// A contraction neither the GEMM tier nor the direct form takes: loops.
  void emitContract(const ir::Op &op);
  /// True when `op` is a contraction shaped like a (batched) matrix product
  /// and large enough to go to the GEMM kernel.
  bool isGemm(const ir::Op &op) const;
  /// Emits `op` (isGemm) as calls of the GEMM kernel, one per batch point.
  void emitGemm(const ir::Op &op);
  /// True when `op` is a contraction the direct form takes (asked after
  /// isGemm): its result's innermost axis (ir::innermostVectorFactor) read
  /// as that factor's contiguous innermost axis (EmitDirect.cpp).
  bool isDirect(const ir::Op &op) const;
  /// Emits `op` (isDirect) with the result's innermost axis in registers.
  void emitDirect(const ir::Op &op);
  void emitReduce(const ir::Op &op);
  /// The i64 position an argmax op holds at its element `kept`, computed
  /// here (an argmax inlined into the scatter that reads it).
  llvm::Value *argmaxAt(const ir::Op &argmax, const Loops &kept);
  /// True when scatter `op` places its source's first loop variable, as it
  /// is, on the result's first axis: different values of it write disjoint
  /// rows, so the scatter splits across threads along that axis (max
  /// pooling's and gather's adjoints do).
  static bool scatterOwnsRows(const ir::Op &op);
  void emitNormalize(const ir::Op &op);
  void emitYield(const ir::Op &op);
  /// True when `op` reads a view, directly or through the fused ops it
  /// computes (MemoryPlan::isInlined).
  bool readsView(const ir::Op &op) const;
  /// The f32 element of `v` at the loop point `idx` (linear offset `i`; idx
  /// may be empty when no view is involved): loaded, or computed in place
  /// when `v` is inlined.
  llvm::Value *elementAt(const ir::Value *v, const Loops &idx, llvm::Value *i);
  /// The f32 result of an elementwise op on operand values.
  llvm::Value *elementwiseValue(const ir::Op &op, const std::vector<llvm::Value *> &xs);

private:
  /// Creates the kernel function for `op` in the next shard and emits its
  /// body with `body`; returns its name. `kind` is what the profile groups
  /// it under (null: the op's mnemonic).
  std::string kernelFor(const ir::Op &op, const std::function<void()> &body,
                        const char *kind = nullptr);
  /// Makes shard `i` the one the builder emits into.
  void useShard(size_t i);
  void emitRegion(const ir::Region &r, bool backward, bool filter);
  void emitOp(const ir::Op &op);
  void emitRecurrence(const ir::Op &op);
  void callKernel(const std::string &kernel, int64_t outerExtent, int64_t elements, bool parallel,
                  bool mayFault);
  void copyInto(const ir::Value *dst, const ir::Value *src);
  std::string kernelName(const ir::Op &op) const;

  const ir::Graph &g_;
  const MemoryPlan &plan_;
  EmitOptions opts_;
  struct ShardState;
  std::vector<std::unique_ptr<ShardState>> shards_;
  size_t nextShard_ = 0;
  std::set<std::string> names_; ///< kernel names in use, across shards
  // The shard being emitted into.
  llvm::LLVMContext *lctx_ = nullptr;
  llvm::Module *mod_ = nullptr;
  llvm::IRBuilder<> *b_ = nullptr;
  llvm::StructType *ctxTy_ = nullptr;
  KernelState ks_;
  /// While set, reads through `*trustedMap_` skip the bounds test on the
  /// axes trustedAxes_ marks: code that runs only where a run-time test or
  /// clipped loop bounds keep those positions inside (a convolution).
  const ir::IndexMap *trustedMap_ = nullptr;
  std::vector<bool> trustedAxes_;
  bool trusted(const ir::IndexMap &map, size_t axis) const {
    return trustedMap_ == &map && trustedAxes_[axis];
  }
  std::vector<KernelInfo> kernels_;
  /// Recurrence ops by their step variable, numbered for KernelContext::steps.
  std::map<const ir::Value *, std::pair<const ir::Op *, int>> steps_;
  // The entry function being emitted.
  llvm::Function *entry_ = nullptr;
  llvm::Value *entryCtx_ = nullptr;
  llvm::BasicBlock *exitBlock_ = nullptr;
};

} // namespace gradc::codegen
