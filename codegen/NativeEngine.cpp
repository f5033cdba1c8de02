//===- codegen/NativeEngine.cpp - A graph run as native code --------------===//
#include "codegen/NativeEngine.h"

#include "runtime/Initializers.h"
#include "support/Assert.h"

#include <cmath>
#include <cstring>

namespace gradc::codegen {

using runtime::DTensor;

namespace {

int64_t countRecurrences(const ir::Region &r) {
  int64_t n = 0;
  for (auto &op : r.ops)
    if (op->body)
      n += 1 + countRecurrences(*op->body);
  return n;
}

/// Stores doubles as the tensor's element type.
void store(const ir::TensorType &t, const std::vector<double> &values, void *dst) {
  if (t.dtype == ir::DType::I32) {
    auto *p = static_cast<int32_t *>(dst);
    for (size_t i = 0; i < values.size(); ++i)
      p[i] = static_cast<int32_t>(values[i]);
  } else {
    auto *p = static_cast<float *>(dst);
    for (size_t i = 0; i < values.size(); ++i)
      p[i] = static_cast<float>(values[i]);
  }
}

DTensor load(const ir::TensorType &t, const void *src) {
  DTensor r = DTensor::zeros(t);
  if (t.dtype == ir::DType::I32) {
    auto *p = static_cast<const int32_t *>(src);
    for (size_t i = 0; i < r.data.size(); ++i)
      r.data[i] = p[i];
  } else {
    auto *p = static_cast<const float *>(src);
    for (size_t i = 0; i < r.data.size(); ++i)
      r.data[i] = p[i];
  }
  return r;
}

} // namespace

NativeEngine::NativeEngine(const ir::Graph &g, const JitOptions &opts, runtime::ThreadPool *pool)
    : g_(g), plan_(g), pool_(pool) {
  code_ = compileGraph(g, plan_, opts);
  for (const LeafInfo &l : plan_.leaves()) {
    int64_t bytes = l.type.numElements() * MemoryPlan::elementBytes(l.type);
    leaves_.emplace_back(static_cast<size_t>(bytes), false); // set before any run reads them
    leafPtrs_.push_back(leaves_.back().data());
  }
  held_.assign(leaves_.size(), false);
  fixedNoise_.assign(leaves_.size(), false);
  steps_.assign(static_cast<size_t>(countRecurrences(g.top)) + 1, 0);
  ticks_.assign(code_->kernels.size() + 1, 0);
}

NativeEngine::~NativeEngine() = default;

const ir::Op *NativeEngine::findLeaf(const std::string &name) const {
  int i = plan_.leafIndex(name);
  return i < 0 ? nullptr : plan_.leaves()[i].op;
}

bool NativeEngine::has(const std::string &leafName) const {
  int i = plan_.leafIndex(leafName);
  return i >= 0 && held_[i];
}

void NativeEngine::set(const std::string &leafName, DTensor value) {
  int i = plan_.leafIndex(leafName);
  GRADC_ASSERT(i >= 0, "no input, param, state or noise named '" + leafName + "'");
  const ir::TensorType &t = plan_.leaves()[i].type;
  GRADC_ASSERT(value.type.shape == t.shape,
               "value for '" + leafName + "' has shape " + value.type.str() + ", not " + t.str());
  store(t, value.data, leaves_[i].data());
  held_[i] = true;
  if (plan_.leaves()[i].kind == ir::OpKind::Noise)
    fixedNoise_[i] = true;
}

void NativeEngine::setData(const std::string &leafName, const void *data) {
  int i = plan_.leafIndex(leafName);
  GRADC_ASSERT(i >= 0, "no input, param, state or noise named '" + leafName + "'");
  const ir::TensorType &t = plan_.leaves()[i].type;
  std::memcpy(leaves_[i].data(), data, static_cast<size_t>(t.numElements() * MemoryPlan::elementBytes(t)));
  held_[i] = true;
  if (plan_.leaves()[i].kind == ir::OpKind::Noise)
    fixedNoise_[i] = true;
}

DTensor NativeEngine::leafValue(const std::string &leafName) const {
  int i = plan_.leafIndex(leafName);
  GRADC_ASSERT(i >= 0 && held_[i], "leaf '" + leafName + "' has no value");
  return load(plan_.leaves()[i].type, leaves_[i].data());
}

void *NativeEngine::leafData(const std::string &leafName) {
  int i = plan_.leafIndex(leafName);
  GRADC_ASSERT(i >= 0, "no leaf named '" + leafName + "'");
  return leaves_[i].data();
}

void NativeEngine::initParams(uint64_t seed) {
  runtime::initializeLeaves(g_, seed, [&](const ir::Op &leaf, std::vector<double> values) {
    int i = plan_.leafIndex(leaf.name);
    if (i < 0)
      return; // dropped as dead code: nothing reads it
    store(leaf.result()->type, values, leaves_[i].data());
    held_[i] = true;
  });
}

void NativeEngine::setNoiseSeed(uint64_t seed, uint64_t call) {
  noiseSeed_ = seed;
  noiseCall_ = call;
}

std::vector<std::string> NativeEngine::missingInputs() const {
  std::vector<std::string> r;
  for (size_t i = 0; i < leaves_.size(); ++i)
    if (plan_.leaves()[i].kind == ir::OpKind::Input && !held_[i])
      r.push_back(plan_.leaves()[i].name);
  return r;
}

void NativeEngine::prepare() {
  // Every noise leaf takes its draws, set or not, as in the interpreter.
  runtime::drawNoise(g_, noiseSeed_, noiseCall_, [&](const ir::Op &leaf, std::vector<double> v) {
    int i = plan_.leafIndex(leaf.name);
    if (i >= 0 && !fixedNoise_[i]) {
      store(leaf.result()->type, v, leaves_[i].data());
      held_[i] = true;
    }
  });
  ++noiseCall_;
  for (size_t i = 0; i < leaves_.size(); ++i)
    GRADC_ASSERT(held_[i] || plan_.leaves()[i].kind == ir::OpKind::Noise,
                 std::string(ir::opMnemonic(plan_.leaves()[i].kind)) + " '" +
                     plan_.leaves()[i].name + "' has no value (set it, or initParams)");
}

void NativeEngine::call(NativeCode::Entry entry) {
  // Allocated at the first run, not zeroed: every kernel writes what it
  // later reads, and the pages of a large arena are only touched (and, on
  // some machines, slowly faulted in) by the runs themselves.
  if (arena_.empty() && plan_.arenaBytes() > 0)
    arena_ = runtime::AlignedBuffer(static_cast<size_t>(plan_.arenaBytes()), false);
  KernelContext ctx;
  ctx.arena = reinterpret_cast<char *>(arena_.data());
  ctx.leaves = leafPtrs_.data();
  ctx.steps = steps_.data();
  ctx.pool = pool_;
  ctx.fault = 0;
  ctx.ticks = ticks_.data();
  entry(&ctx);
  if (ctx.fault != 0)
    throw runtime::RuntimeFault(code_->kernels.at(static_cast<size_t>(ctx.fault - 1)).loc,
                                faultMessage(code_->kernels.at(static_cast<size_t>(ctx.fault - 1))));
}

std::string NativeEngine::faultMessage(const KernelInfo &k) const {
  // The kernel only flagged the fault, to keep its loops branch-free; the
  // offending value is found here, in the int tensor it read.
  const ir::Value *index = g_.findValue(k.index);
  if (index && plan_.has(index) && plan_.slot(index).kind != Slot::Inline) {
    runtime::DTensor t = load(index->type, storage(index));
    for (double v : t.data) {
      int64_t p = static_cast<int64_t>(v) + k.offset;
      if (p < 0 || p >= k.bound)
        return "index " + std::to_string(p) + " out of range [0, " + std::to_string(k.bound) +
               ") " + k.what;
    }
  }
  return "an index out of range [0, " + std::to_string(k.bound) + ") " + k.what;
}

void NativeEngine::runForward() {
  prepare();
  call(code_->forward);
}

void NativeEngine::runBackward() { call(code_->backward); }

void NativeEngine::run() {
  runForward();
  runBackward();
}

void NativeEngine::applyUpdates() {
  // All new values come from the last run: read them all, then write.
  std::vector<std::pair<int, DTensor>> next;
  for (const ir::StateUpdate &u : g_.updates) {
    int i = plan_.leafIndex(u.state->def->name);
    GRADC_ASSERT(i >= 0, "update of an unknown state");
    next.emplace_back(i, value(u.value));
  }
  for (auto &[i, v] : next)
    store(plan_.leaves()[i].type, v.data, leaves_[i].data());
}

const void *NativeEngine::storage(const ir::Value *v) const {
  const Slot &s = plan_.slot(v);
  if (s.kind == Slot::Leaf)
    return leaves_[s.leaf].data();
  GRADC_ASSERT(s.kind == Slot::Arena, "no storage for an inline constant");
  GRADC_ASSERT(!arena_.empty(), "a value read before the first run");
  return arena_.data() + s.offset;
}

const void *NativeEngine::valueData(const ir::Value *v) const {
  return plan_.slot(v).kind == Slot::Inline ? nullptr : storage(v);
}

DTensor NativeEngine::value(const ir::Value *v) const {
  const Slot &s = plan_.slot(v);
  if (s.kind == Slot::Inline) {
    DTensor r = DTensor::zeros(v->type);
    std::fill(r.data.begin(), r.data.end(), s.value);
    return r;
  }
  return load(v->type, storage(v));
}

} // namespace gradc::codegen
