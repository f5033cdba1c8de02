//===- codegen/NativeEngine.h - A graph run as native code ----------------===//
//
// The runtime::Engine that runs compiled code: the graph's arena (one
// aligned allocation laid out by codegen/MemoryPlan.h), one aligned buffer
// per leaf (inputs, params, state, noise) in float32 or int32, and the
// thread pool the kernels split their loops over. Values cross the Engine
// interface as doubles, converted from and to the float32 storage.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Jit.h"
#include "codegen/MemoryPlan.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/Engine.h"
#include "runtime/ThreadPool.h"

#include <map>
#include <memory>

namespace gradc::codegen {

class NativeEngine : public runtime::Engine {
public:
  /// Compiles `g` (which must outlive the engine); kernels run on `pool`
  /// (null: on the calling thread).
  NativeEngine(const ir::Graph &g, const JitOptions &opts, runtime::ThreadPool *pool);
  ~NativeEngine() override;

  const ir::Graph &graph() const override { return g_; }
  void set(const std::string &leafName, runtime::DTensor value) override;
  void setData(const std::string &leafName, const void *data) override;
  const ir::Op *findLeaf(const std::string &name) const override;
  bool has(const std::string &leafName) const override;
  runtime::DTensor leafValue(const std::string &leafName) const override;
  void initParams(uint64_t seed) override;
  void setNoiseSeed(uint64_t seed, uint64_t call = 0) override;
  std::vector<std::string> missingInputs() const override;
  void run() override;
  void applyUpdates() override;
  runtime::DTensor value(const ir::Value *v) const override;

  /// Runs only the forward entry (the ops autodiff did not produce).
  void runForward();
  /// Runs only the backward entry (after runForward()).
  void runBackward();

  /// The leaf's float32 (or int32) storage, for zero-copy access.
  void *leafData(const std::string &leafName);
  /// Where the last run left `v` (a leaf's buffer or its arena slot); null
  /// for a rank-0 constant, which native code never stores.
  const void *valueData(const ir::Value *v) const;
  uint64_t noiseCall() const override { return noiseCall_; }
  const NativeCode &code() const { return *code_; }
  /// Nanoseconds spent in each kernel (by KernelInfo index) since the
  /// engine was made, for code compiled with EmitOptions::profile.
  const std::vector<int64_t> &kernelTicks() const { return ticks_; }
  const MemoryPlan &plan() const { return plan_; }

private:
  void prepare();
  void call(NativeCode::Entry entry);
  const void *storage(const ir::Value *v) const;
  /// The message of a fault of kernel `k`, as the interpreter words it.
  std::string faultMessage(const KernelInfo &k) const;

  const ir::Graph &g_;
  MemoryPlan plan_;
  std::unique_ptr<NativeCode> code_;
  runtime::ThreadPool *pool_;
  runtime::AlignedBuffer arena_;
  std::vector<runtime::AlignedBuffer> leaves_; ///< by MemoryPlan leaf index
  std::vector<bool> held_;                     ///< a value was set or initialized
  std::vector<bool> fixedNoise_;               ///< a noise leaf the caller set
  std::vector<void *> leafPtrs_;
  std::vector<int64_t> steps_;
  std::vector<int64_t> ticks_;
  uint64_t noiseSeed_ = 0, noiseCall_ = 0;
};

} // namespace gradc::codegen
