//===- api/Trainer.cpp - A session's optimizer: state, steps, checkpoints --===//
#include "api/Trainer.h"

#include "api/ArrayConvert.h"
#include "codegen/NativeEngine.h"
#include "codegen/UpdateKernel.h"
#include "runtime/SafetensorsIO.h"
#include "support/Assert.h"

#include <cmath>
#include <cstring>

namespace gradc::api {

struct Trainer::Param {
  std::string name;
  const ir::Value *grad = nullptr;
  std::vector<int64_t> shape;
  int64_t size = 0;
  /// Native code: float32 state tensors, and a copy of the gradient where
  /// the engine keeps it in a leaf buffer (or never stores it).
  std::vector<runtime::AlignedBuffer> f32;
  runtime::AlignedBuffer gradCopy;
  bool copyGrad = false;
  /// The interpreter: state in double precision.
  std::vector<std::vector<double>> f64;
};

Trainer::Trainer(runtime::OptimizerConfig config) : config_(config) {}
Trainer::~Trainer() = default;

void Trainer::setLearningRate(double lr) {
  config_.lr = lr;
  if (kernel_)
    kernel_->setLearningRate(lr);
}

std::string Trainer::stateArrayName(const std::string &state, const std::string &param) {
  return std::string(runtime::kOptimizerStatePrefix) + state + "/" + param;
}

void Trainer::prepare(const runtime::Engine &engine) { fixParams(engine); }

void Trainer::fixParams(const runtime::Engine &engine) {
  if (fixed_)
    return;
  const ir::Graph &g = engine.graph();
  auto *native = dynamic_cast<const codegen::NativeEngine *>(&engine);
  size_t states = config_.stateNames().size();
  for (const ir::NamedValue &gr : g.gradients) {
    std::string name = gr.name.substr(5); // "grad.W" -> "W"
    const ir::Op *leaf = engine.findLeaf(name);
    if (!leaf || leaf->kind != ir::OpKind::Param)
      continue; // an input's gradient: nothing to update
    Param p;
    p.name = name;
    p.grad = gr.value;
    p.shape = leaf->result()->type.shape;
    p.size = leaf->result()->type.numElements();
    if (native) {
      for (size_t s = 0; s < states; ++s)
        p.f32.emplace_back(static_cast<size_t>(p.size) * sizeof(float), true);
      const codegen::Slot &slot = native->plan().slot(gr.value);
      p.copyGrad = slot.kind != codegen::Slot::Arena;
      if (p.copyGrad)
        p.gradCopy = runtime::AlignedBuffer(static_cast<size_t>(p.size) * sizeof(float), true);
    } else {
      p.f64.assign(states, std::vector<double>(static_cast<size_t>(p.size), 0.0));
    }
    names_.push_back(name);
    params_.push_back(std::move(p));
  }
  fixed_ = true;
}

void Trainer::step(runtime::Engine &engine, runtime::ThreadPool *pool, int optLevel) {
  fixParams(engine);
  ++steps_;
  if (dynamic_cast<codegen::NativeEngine *>(&engine))
    nativeStep(engine, pool, optLevel);
  else
    referenceStep(engine);
}

void Trainer::nativeStep(runtime::Engine &engine, runtime::ThreadPool *pool, int optLevel) {
  auto &native = static_cast<codegen::NativeEngine &>(engine);
  if (!kernel_) {
    std::vector<int64_t> sizes;
    for (const Param &p : params_)
      sizes.push_back(p.size);
    kernel_ = std::make_unique<codegen::UpdateKernel>(config_, std::move(sizes), optLevel);
  }
  // The buffers stay where they are from one step to the next (the engine's
  // leaves and arena, this trainer's state), so their table is built once.
  if (buffers_.params.empty())
    for (Param &p : params_) {
      buffers_.params.push_back(static_cast<float *>(native.leafData(p.name)));
      buffers_.grads.push_back(p.copyGrad ? reinterpret_cast<const float *>(p.gradCopy.data())
                                          : static_cast<const float *>(native.valueData(p.grad)));
      std::vector<float *> state;
      for (runtime::AlignedBuffer &s : p.f32)
        state.push_back(reinterpret_cast<float *>(s.data()));
      buffers_.state.push_back(std::move(state));
    }
  for (Param &p : params_) {
    if (!p.copyGrad)
      continue;
    auto *dst = reinterpret_cast<float *>(p.gradCopy.data());
    if (const void *g = native.valueData(p.grad))
      std::memcpy(dst, g, static_cast<size_t>(p.size) * sizeof(float));
    else // a rank-0 constant, held as an immediate
      dst[0] = static_cast<float>(native.value(p.grad).data[0]);
  }
  gradNorm_ = kernel_->clippedStep(buffers_, steps_, pool);
}

void Trainer::referenceStep(runtime::Engine &engine) {
  // Every gradient is read before any parameter changes.
  std::vector<runtime::DTensor> grads, values;
  double sumsq = 0;
  for (Param &p : params_) {
    grads.push_back(engine.value(p.grad));
    values.push_back(engine.leafValue(p.name));
    for (double g : grads.back().data)
      sumsq += g * g;
  }
  gradNorm_ = std::sqrt(sumsq);
  double scale = runtime::clipScale(config_, sumsq);
  for (size_t i = 0; i < params_.size(); ++i) {
    Param &p = params_[i];
    std::vector<double *> state;
    for (std::vector<double> &s : p.f64)
      state.push_back(s.data());
    runtime::referenceStep(config_, steps_, scale, values[i].data.data(), grads[i].data.data(),
                           state, p.size);
    engine.set(p.name, std::move(values[i]));
  }
}

runtime::NamedArrays Trainer::stateArrays() const {
  runtime::NamedArrays out;
  std::vector<std::string> names = config_.stateNames();
  for (const Param &p : params_)
    for (size_t s = 0; s < names.size(); ++s) {
      runtime::HostArray a = runtime::HostArray::zeros(runtime::ElemType::F32, p.shape);
      float *dst = a.f32();
      if (!p.f32.empty())
        std::memcpy(dst, p.f32[s].data(), static_cast<size_t>(p.size) * sizeof(float));
      else
        for (int64_t i = 0; i < p.size; ++i)
          dst[i] = static_cast<float>(p.f64[s][static_cast<size_t>(i)]);
      out.emplace_back(stateArrayName(names[s], p.name), std::move(a));
    }
  return out;
}

bool Trainer::restore(int64_t steps, const runtime::NamedArrays &arrays, std::string &error) {
  GRADC_ASSERT(fixed_, "Trainer::restore before the parameter list is fixed");
  std::vector<std::string> names = config_.stateNames();
  // Find and check every tensor first, so that a bad file changes nothing.
  std::vector<std::vector<const runtime::HostArray *>> found(params_.size());
  for (size_t i = 0; i < params_.size(); ++i)
    for (const std::string &state : names) {
      std::string want = stateArrayName(state, params_[i].name);
      const runtime::HostArray *hit = nullptr;
      for (auto &[name, a] : arrays)
        if (name == want)
          hit = &a;
      if (!hit) {
        error = "it has no optimizer state '" + want + "' (was it saved by another optimizer?)";
        return false;
      }
      if (hit->type != runtime::ElemType::F32 || hit->shape != params_[i].shape) {
        error = "optimizer state '" + want + "' is " + hit->typeStr() + ", not " +
                typeString(DType::F32, params_[i].shape);
        return false;
      }
      found[i].push_back(hit);
    }
  for (size_t i = 0; i < params_.size(); ++i)
    for (size_t s = 0; s < names.size(); ++s) {
      Param &p = params_[i];
      const float *src = found[i][s]->f32();
      if (!p.f32.empty())
        std::memcpy(p.f32[s].data(), src, static_cast<size_t>(p.size) * sizeof(float));
      else
        for (int64_t k = 0; k < p.size; ++k)
          p.f64[s][static_cast<size_t>(k)] = src[k];
    }
  steps_ = steps;
  return true;
}

} // namespace gradc::api
