//===- api/Session.cpp - gradc's C++ API (include/gradc/gradc.h) ----------===//
//
// Models, sessions and their passes; how a session keeps its leaves is
// described in api/SessionImpl.h, its training step in api/SessionTrain.cpp.
//
//===----------------------------------------------------------------------===//
#include "api/SessionImpl.h"

#include "api/ArrayConvert.h"
#include "api/InputFill.h"
#include "api/Pipeline.h"
#include "codegen/NativeEngine.h"
#include "frontend/CompileModel.h"
#include "runtime/Initializers.h"
#include "runtime/Interpreter.h"
#include "runtime/NpyIO.h"
#include "runtime/SafetensorsIO.h"
#include "runtime/ThreadPool.h"
#include "support/Assert.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace gradc {

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

int64_t Tensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::floats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t;
  t.shape = std::move(shape);
  t.f32 = std::move(values);
  if (static_cast<int64_t>(t.f32.size()) != t.size())
    throw Error("Tensor::floats: " + std::to_string(t.f32.size()) + " values for " +
                std::to_string(t.size()) + " elements");
  return t;
}

Tensor Tensor::ints(std::vector<int64_t> shape, std::vector<int32_t> values) {
  Tensor t;
  t.dtype = DType::I32;
  t.shape = std::move(shape);
  t.i32 = std::move(values);
  if (static_cast<int64_t>(t.i32.size()) != t.size())
    throw Error("Tensor::ints: " + std::to_string(t.i32.size()) + " values for " +
                std::to_string(t.size()) + " elements");
  return t;
}

namespace {

Tensor toTensor(const runtime::DTensor &d) {
  Tensor t;
  t.shape = d.type.shape;
  if (d.type.dtype == ir::DType::I32) {
    t.dtype = DType::I32;
    for (double v : d.data)
      t.i32.push_back(static_cast<int32_t>(v));
  } else {
    for (double v : d.data)
      t.f32.push_back(static_cast<float>(v));
  }
  return t;
}

TensorInfo infoOf(const std::string &name, const ir::TensorType &t) {
  return {name, t.dtype == ir::DType::I32 ? DType::I32 : DType::F32, t.shape};
}

} // namespace

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

static std::shared_ptr<Model> load(const std::string &path, const std::string *text,
                                   const Options &opts) {
  auto impl = std::make_unique<Model::Impl>();
  impl->opts = opts;
  impl->path = path;
  if (text)
    impl->text = *text;
  FrontendOptions fo;
  fo.modelName = opts.model;
  for (auto &[name, v] : opts.dims)
    fo.dims[name] = v;
  Model::Impl &m = *impl;
  m.fr = m.guarded([&] { return runFrontend(path, text, fo, m.sm, m.diags); });
  struct Access : Model {
    explicit Access(std::unique_ptr<Impl> i) : Model(std::move(i)) {}
  };
  return std::make_shared<Access>(std::move(impl));
}

std::shared_ptr<Model> Model::fromFile(const std::string &path, const Options &opts) {
  return load(path, nullptr, opts);
}

std::shared_ptr<Model> Model::fromString(const std::string &source, const Options &opts,
                                         const std::string &name) {
  return load(name, &source, opts);
}

const std::string &Model::name() const { return impl_->fr.model->name; }
bool Model::hasLoss() const { return impl_->fr.model->loss.has_value(); }
std::string Model::lossName() const { return hasLoss() ? impl_->fr.model->loss->name : ""; }
const Options &Model::options() const { return impl_->opts; }

std::vector<TensorInfo> Model::inputs() const {
  std::vector<TensorInfo> r;
  for (const ir::Op *op : impl_->graph(false).leaves(ir::OpKind::Input))
    r.push_back(infoOf(op->name, op->result()->type));
  return r;
}

std::vector<TensorInfo> Model::noise() const {
  std::vector<TensorInfo> r;
  // Only the training graph draws noise (dropout is the identity in evaluation).
  for (const ir::Op *op : impl_->graph(api::GraphKind::Train).leaves(ir::OpKind::Noise))
    r.push_back(infoOf(op->name, op->result()->type));
  return r;
}

std::vector<TensorInfo> Model::params() const {
  std::vector<TensorInfo> r;
  for (ir::OpKind k : {ir::OpKind::Param, ir::OpKind::State})
    for (const ir::Op *op : impl_->graph(false).leaves(k))
      r.push_back(infoOf(op->name, op->result()->type));
  return r;
}

std::vector<TensorInfo> Model::outputs() const {
  const ir::Graph &g = impl_->graph(false);
  std::vector<TensorInfo> r;
  for (auto &o : g.outputs)
    r.push_back(infoOf(o.name, o.value->type));
  if (g.loss.value)
    r.push_back(infoOf(g.loss.name, g.loss.value->type));
  for (auto &m : g.metrics)
    r.push_back(infoOf(m.name, m.value->type));
  return r;
}

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

Session::Impl::Run &Session::Impl::runFor(api::GraphKind kind) {
  Run &r = runs[static_cast<int>(kind)];
  if (!r.engine) {
    const ir::Graph &g = m().graph(kind);
    const Options &o = m().opts;
    if (o.interpreter) {
      r.engine = std::make_unique<runtime::Interpreter>(g);
    } else {
      if (!pool)
        pool = std::make_unique<runtime::ThreadPool>(o.threads);
      codegen::JitOptions jo;
      jo.optLevel = o.optLevel;
      jo.cache = o.cache;
      jo.cacheDir = o.cacheDir;
      jo.emit.profile = o.profile;
      r.engine = std::make_unique<codegen::NativeEngine>(g, jo, pool.get());
    }
    r.engine->setNoiseSeed(seed);
  }
  return r;
}

void Session::Impl::pull(const std::string &name, Leaf &leaf) {
  if (leaf.heldBy < 0)
    return;
  Run &holder = runs[leaf.heldBy];
  leaf.value = toTensor(holder.engine->leafValue(name));
  leaf.version = ++clock;
  holder.seen[name] = leaf.version; // it holds this value already
  leaf.heldBy = -1;
}

void Session::Impl::syncHeld() {
  for (auto &[name, leaf] : leaves)
    pull(name, leaf);
}

Session::Impl::Run &Session::Impl::pass(api::GraphKind kind) {
  Run &r = runFor(kind);
  for (auto &[name, leaf] : leaves) {
    if (!r.engine->findLeaf(name) || leaf.heldBy == static_cast<int>(kind))
      continue;
    pull(name, leaf);
    auto it = r.seen.find(name);
    if (it != r.seen.end() && it->second == leaf.version)
      continue;
    const Tensor &t = leaf.value;
    r.engine->setData(name, t.dtype == DType::I32 ? static_cast<const void *>(t.i32.data())
                                                  : static_cast<const void *>(t.f32.data()));
    r.seen[name] = leaf.version;
  }
  if (auto missing = r.engine->missingInputs(); !missing.empty())
    throw Error("input '" + missing[0] + "' has no value (Session::setInput)");
  try {
    r.engine->run();
  } catch (const runtime::RuntimeFault &f) {
    std::ostringstream os;
    DiagnosticEngine d(m().sm, &os);
    d.error(f.loc, f.what());
    throw Error(os.str());
  }
  last = static_cast<int>(kind);
  return r;
}

const ir::Op &Session::Impl::leafOp(const std::string &name, const char *what) {
  for (api::GraphKind kind : {api::GraphKind::Eval, api::GraphKind::Train}) {
    for (auto &op : m().graph(kind).top.ops)
      if (opClassOf(op->kind) == ir::OpClass::Leaf && op->kind != ir::OpKind::Constant &&
          op->kind != ir::OpKind::Iota && op->name == name)
        return *op;
  }
  throw Error(std::string("the model has no ") + what + " named '" + name + "'");
}

void Session::Impl::setLeaf(const std::string &name, Tensor t, const ir::Op &op) {
  const ir::TensorType &type = op.result()->type;
  bool isInt = type.dtype == ir::DType::I32;
  if (t.shape != type.shape || (t.dtype == DType::I32) != isInt)
    throw Error("'" + name + "' is " +
                api::typeString(isInt ? DType::I32 : DType::F32, type.shape) + ", not " +
                api::typeString(t.dtype, t.shape));
  if (static_cast<int64_t>(isInt ? t.i32.size() : t.f32.size()) != t.size())
    throw Error("'" + name + "': the tensor's data does not fill its shape");
  if (isInt) // what the other type's vector held is not part of the tensor
    t.f32.clear();
  else
    t.i32.clear();
  leaves[name] = {std::move(t), ++clock, -1};
}

Session::Session(std::shared_ptr<Model> model, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  impl_->model = std::move(model);
  impl_->seed = seed;
  const ir::Graph &g = impl_->m().graph(false);
  runtime::initializeLeaves(g, seed, [&](const ir::Op &leaf, std::vector<double> values) {
    runtime::DTensor d{leaf.result()->type, std::move(values)};
    impl_->leaves[leaf.name] = {toTensor(d), ++impl_->clock}; // float32, as native code holds them
  });
}

Session::~Session() = default;

void Session::setInput(const std::string &name, Tensor value) {
  const ir::Op &op = impl_->leafOp(name, "input or noise");
  if (op.kind != ir::OpKind::Input && op.kind != ir::OpKind::Noise)
    throw Error("'" + name + "' is not an input (use setParam for parameters)");
  impl_->setLeaf(name, std::move(value), op);
}

void Session::fillMissingInputs(uint64_t seed) {
  api::drawMissingInputs(
      impl_->m().graph(false), seed,
      [&](const std::string &name) { return impl_->leaves.count(name) != 0; },
      [&](const ir::Op &op, runtime::DTensor t) {
        impl_->leaves[op.name] = {toTensor(t), ++impl_->clock};
      });
}

CompileInfo Session::compile(bool gradient) {
  Impl::Run &r = impl_->runFor(gradient ? api::GraphKind::Gradient : api::GraphKind::Eval);
  CompileInfo info;
  if (auto *native = dynamic_cast<codegen::NativeEngine *>(r.engine.get())) {
    info.llvmMs = native->code().llvmMs;
    info.fromCache = native->code().fromCache;
    info.plannedBytes = native->plan().arenaBytes();
    for (const codegen::LeafInfo &l : native->plan().leaves())
      info.plannedBytes += l.type.numElements() * codegen::MemoryPlan::elementBytes(l.type);
    info.threads = impl_->pool->size();
  }
  return info;
}

std::vector<KernelTime> Session::profile(bool gradient) const {
  const Impl::Run &r =
      impl_->runs[static_cast<int>(gradient ? api::GraphKind::Gradient : api::GraphKind::Eval)];
  auto *native = dynamic_cast<const codegen::NativeEngine *>(r.engine.get());
  if (!native)
    return {};
  const std::vector<int64_t> &ticks = native->kernelTicks();
  const std::vector<codegen::KernelInfo> &kernels = native->code().kernels;
  const SourceManager &sm = impl_->m().sm;
  std::vector<KernelTime> out;
  for (size_t i = 0; i < kernels.size() && i < ticks.size(); ++i) {
    const codegen::KernelInfo &k = kernels[i];
    std::string where =
        k.loc.valid() ? sm.path(k.loc.file) + ":" + std::to_string(k.loc.line) : std::string("?");
    out.push_back({k.name, k.kind, where, static_cast<double>(ticks[i]) * 1e-6});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KernelTime &a, const KernelTime &b) { return a.ms > b.ms; });
  return out;
}

void Session::forward(bool trainingGraph) {
  impl_->pass(trainingGraph ? api::GraphKind::Train : api::GraphKind::Eval);
}

void Session::backward() {
  // A model that minimizes nothing is reported, at the model, by building
  // its gradient graph.
  impl_->pass(api::GraphKind::Gradient);
}

Tensor Session::output(const std::string &name) const {
  if (impl_->last < 0)
    throw Error("no pass has run yet (call forward() or backward())");
  Impl::Run &r = impl_->runs[impl_->last];
  const ir::Graph &g = r.engine->graph();
  auto named = [&](const ir::NamedValue &nv) { return nv.value && nv.name == name; };
  if (named(g.loss))
    return toTensor(r.engine->value(g.loss.value));
  for (auto *list : {&g.outputs, &g.metrics})
    for (auto &nv : *list)
      if (named(nv))
        return toTensor(r.engine->value(nv.value));
  throw Error("the model has no output, minimized scalar or metric named '" + name + "'");
}

Tensor Session::gradient(const std::string &name) const {
  int kind = static_cast<int>(api::GraphKind::Gradient);
  if (impl_->last != kind)
    throw Error("no backward() has run yet");
  const runtime::Engine &e = *impl_->runs[kind].engine;
  for (auto &gr : e.graph().gradients)
    if (gr.name == "grad." + name)
      return toTensor(e.value(gr.value));
  for (auto &info : impl_->model->inputs())
    if (info.name == name && !impl_->m().opts.inputGradients)
      throw Error("no gradient for input '" + name +
                  "': this session computes parameter gradients only (Options::inputGradients)");
  throw Error("no gradient for '" + name + "': not a parameter or f32 input");
}

std::vector<std::string> Session::gradientNames() const {
  if (!impl_->model->hasLoss())
    return {};
  std::vector<std::string> r;
  for (auto &gr : impl_->m().graph(true).gradients)
    r.push_back(gr.name.substr(5)); // "grad.W" -> "W"
  return r;
}

std::vector<std::string> Session::paramNames() const {
  std::vector<std::string> r;
  for (auto &info : impl_->model->params())
    r.push_back(info.name);
  return r;
}

Tensor Session::param(const std::string &name) const {
  const ir::Op &op = impl_->leafOp(name, "parameter or state");
  if (op.kind != ir::OpKind::Param && op.kind != ir::OpKind::State)
    throw Error("'" + name + "' is not a parameter or state");
  Impl::Leaf &leaf = impl_->leaves.at(name);
  impl_->pull(name, leaf);
  return leaf.value;
}

void Session::setParam(const std::string &name, const Tensor &value) {
  const ir::Op &op = impl_->leafOp(name, "parameter or state");
  if (op.kind != ir::OpKind::Param && op.kind != ir::OpKind::State)
    throw Error("'" + name + "' is not a parameter or state");
  impl_->setLeaf(name, value, op);
}

void Session::saveParams(const std::string &path) const {
  runtime::NamedArrays arrays;
  for (const std::string &name : paramNames())
    arrays.emplace_back(name, api::arrayFromTensor(param(name)));
  std::string err;
  bool ok = path.ends_with(".safetensors")
                ? runtime::writeSafetensors(
                      path, arrays,
                      {{"format", "gradc parameters"}, {"model", impl_->model->name()}}, err)
                : runtime::writeNpz(path, arrays, err);
  if (!ok)
    throw Error(err);
}

void Session::loadParams(const std::string &path) {
  std::string err;
  std::optional<runtime::NamedArrays> arrays = runtime::readParameterFile(path, err);
  if (!arrays)
    throw Error(err);
  // Every tensor is checked before any is set, so a mismatch changes nothing.
  std::vector<std::pair<const ir::Op *, Tensor>> values;
  for (auto &[name, a] : *arrays) {
    const ir::Op *op = nullptr;
    try {
      op = &impl_->leafOp(name, "parameter or state");
    } catch (const Error &) {
    }
    if (!op || (op->kind != ir::OpKind::Param && op->kind != ir::OpKind::State))
      throw Error(path + ": '" + name + "' is not a parameter or state of model '" +
                  impl_->model->name() + "'");
    values.emplace_back(
        op, api::tensorFromArray(a, infoOf(name, op->result()->type), path, "parameter"));
  }
  for (auto &[op, t] : values)
    impl_->setLeaf(op->name, std::move(t), *op);
}

} // namespace gradc
