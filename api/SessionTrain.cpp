//===- api/SessionTrain.cpp - Training steps and checkpoints of a session -===//
//
// Session::trainStep runs the gradient graph, lets the Trainer update the
// parameters inside that graph's engine, applies the `update` statements
// there, and marks what changed as held by that engine (api/SessionImpl.h).
//
// A checkpoint is one .safetensors file: every parameter and state tensor
// under its own name, the optimizer's state under "optimizer/STATE/PARAM",
// and metadata strings: format = "gradc checkpoint", the model, the
// optimizer, the step count, the seed and the noise counter, plus what the
// caller adds (gradc train: the epoch and the schedule).
//
//===----------------------------------------------------------------------===//
#include "api/SessionImpl.h"

#include "api/ArrayConvert.h"
#include "ir/OptimizerArgs.h"
#include "runtime/SafetensorsIO.h"
#include "support/ParseNumber.h"

#include <cmath>

namespace gradc {

//===----------------------------------------------------------------------===//
// What the model says about training
//===----------------------------------------------------------------------===//

std::vector<std::string> Model::metricNames() const {
  std::vector<std::string> r;
  for (const sema::NamedRef &m : impl_->fr.model->metrics)
    r.push_back(m.name);
  return r;
}

OptimizerSettings Model::optimizer() const {
  const sema::Model &m = *impl_->fr.model;
  OptimizerSettings s;
  if (!m.optimizer.name.empty()) {
    s.name = m.optimizer.name;
    s.args = m.optimizer.args;
  }
  s.clipNorm = m.clipNorm.value_or(0.0);
  return s;
}

std::string Model::batchDim() const {
  std::vector<TensorInfo> ins = inputs();
  if (ins.empty() || ins[0].shape.empty())
    return "";
  int64_t b = ins[0].shape[0];
  for (const TensorInfo &in : ins)
    if (in.shape.empty() || in.shape[0] != b)
      return "";
  // The dim whose change moves every input's first axis: each dim of that
  // size is tried by analyzing the model again with it one larger.
  for (auto &[name, value] : impl_->fr.model->dims) {
    if (value != b)
      continue;
    FrontendOptions fo;
    fo.modelName = impl_->opts.model;
    fo.warnings = false;
    for (auto &[n, v] : impl_->opts.dims)
      fo.dims[n] = v;
    fo.dims[name] = b + 1;
    SourceManager sm;
    std::ostringstream sink;
    DiagnosticEngine diags(sm, &sink);
    try {
      const std::string *text = impl_->text ? &*impl_->text : nullptr;
      FrontendResult fr = runFrontend(impl_->path, text, fo, sm, diags);
      bool moves = true;
      for (const TensorInfo &in : ins) {
        int t = fr.model->findTensor(in.name);
        moves = moves && t >= 0 && !fr.model->tensors[t].shape.empty() &&
                fr.model->tensors[t].shape[0] == b + 1;
      }
      if (moves)
        return name;
    } catch (const std::exception &) {
      // A derived dim, or a size the model rejects: not this one.
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// The optimizer
//===----------------------------------------------------------------------===//

namespace {

runtime::OptimizerConfig configFrom(const OptimizerSettings &s) {
  std::string err;
  std::optional<runtime::OptimizerConfig> c =
      runtime::OptimizerConfig::fromSpec(s.name, s.args, err);
  if (!c)
    throw Error(err);
  if (!(s.clipNorm >= 0) || !std::isfinite(s.clipNorm))
    throw Error("clip norm " + std::to_string(s.clipNorm) + " must be a finite number >= 0");
  c->clipNorm = s.clipNorm;
  return *c;
}

} // namespace

api::Trainer &Session::Impl::trainerFor() {
  if (!trainer)
    trainer = std::make_unique<api::Trainer>(configFrom(model->optimizer()));
  return *trainer;
}

void Session::setOptimizer(const OptimizerSettings &settings) {
  impl_->trainer = std::make_unique<api::Trainer>(configFrom(settings));
}

std::string Session::optimizerDescription() { return impl_->trainerFor().config().describe(); }

void Session::setLearningRate(double lr) {
  if (const char *why = ir::optimizerArgumentRange("lr", lr))
    throw Error("learning rate " + std::to_string(lr) + " is out of range (" + why + ")");
  impl_->trainerFor().setLearningRate(lr);
}

double Session::learningRate() { return impl_->trainerFor().config().lr; }

int64_t Session::steps() const { return impl_->trainer ? impl_->trainer->steps() : 0; }

double Session::lastGradientNorm() const {
  return impl_->trainer ? impl_->trainer->lastGradientNorm() : 0.0;
}

double Session::trainStep() {
  Impl &s = *impl_;
  api::Trainer &trainer = s.trainerFor();
  Impl::Run &r = s.pass(api::GraphKind::Gradient);
  const ir::Graph &g = r.engine->graph();
  double loss = r.engine->value(g.loss.value).data.at(0);
  trainer.step(*r.engine, s.pool.get(), s.m().opts.optLevel);
  r.engine->applyUpdates();
  // The engine now holds the newest parameters and state.
  int holder = static_cast<int>(api::GraphKind::Gradient);
  for (const std::string &name : trainer.paramNames())
    s.leaves.at(name).heldBy = holder;
  for (const ir::StateUpdate &u : g.updates)
    s.leaves.at(u.state->def->name).heldBy = holder;
  return loss;
}

//===----------------------------------------------------------------------===//
// Checkpoints
//===----------------------------------------------------------------------===//

namespace {

constexpr const char *kCheckpointFormat = "gradc checkpoint";

uint64_t metadataCount(const std::map<std::string, std::string> &meta, const char *key,
                       const std::string &path) {
  auto it = meta.find(key);
  if (it == meta.end())
    throw Error(path + ": the checkpoint has no '" + key + "' entry in its metadata");
  std::optional<uint64_t> v = parseCount(it->second);
  if (!v)
    throw Error(path + ": the checkpoint's '" + key + "' is '" + it->second + "', not a count");
  return *v;
}

} // namespace

void Session::saveCheckpoint(const std::string &path,
                             const std::map<std::string, std::string> &metadata) {
  Impl &s = *impl_;
  s.syncHeld();
  api::Trainer &trainer = s.trainerFor();
  Impl::Run &r = s.runFor(api::GraphKind::Gradient);
  trainer.prepare(*r.engine); // a checkpoint before any step holds zero state
  runtime::NamedArrays arrays;
  for (const std::string &name : paramNames())
    arrays.emplace_back(name, api::arrayFromTensor(param(name)));
  for (auto &a : trainer.stateArrays())
    arrays.push_back(std::move(a));
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = kCheckpointFormat;
  meta["model"] = model()->name();
  meta["optimizer"] = trainer.config().describe();
  meta["step"] = std::to_string(trainer.steps());
  meta["seed"] = std::to_string(s.seed);
  meta["noise_call"] = std::to_string(r.engine->noiseCall());
  std::string err;
  if (!runtime::writeSafetensors(path, arrays, meta, err))
    throw Error(err);
}

std::map<std::string, std::string> Session::loadCheckpoint(const std::string &path) {
  Impl &s = *impl_;
  std::string err;
  if (runtime::looksLikeNpz(path))
    throw Error(path + ": an .npz of parameters, not a gradc checkpoint (a checkpoint, with "
                       "the optimizer's state, is a .safetensors file)");
  std::optional<runtime::Safetensors> st = runtime::readSafetensors(path, err);
  if (!st)
    throw Error(err);
  std::map<std::string, std::string> &meta = st->metadata;
  if (meta["format"] != kCheckpointFormat)
    throw Error(path + ": not a gradc checkpoint (its metadata has no format \"" +
                kCheckpointFormat + "\"); a parameter file loads with loadParams");
  if (meta["model"] != model()->name())
    throw Error(path + ": a checkpoint of model '" + meta["model"] + "', not of '" +
                model()->name() + "'");
  uint64_t step = metadataCount(meta, "step", path);
  uint64_t seed = metadataCount(meta, "seed", path);
  uint64_t noiseCall = metadataCount(meta, "noise_call", path);

  // Every parameter and state tensor, checked before anything changes.
  std::vector<std::pair<std::string, Tensor>> values;
  for (const TensorInfo &info : model()->params()) {
    const runtime::HostArray *a = nullptr;
    for (auto &[name, arr] : st->tensors)
      if (name == info.name)
        a = &arr;
    if (!a)
      throw Error(path + ": the checkpoint has no tensor '" + info.name + "'");
    values.emplace_back(info.name, api::tensorFromArray(*a, info, path, "parameter"));
  }
  api::Trainer &trainer = s.trainerFor();
  // Its state means nothing to another rule (and sgd has none to miss).
  auto ruleOf = [](const std::string &d) { return d.substr(0, d.find('(')); };
  std::string mine = trainer.config().describe();
  if (ruleOf(meta["optimizer"]) != ruleOf(mine))
    throw Error(path + ": the checkpoint was trained with " + meta["optimizer"] +
                "; this session's optimizer is " + mine);
  trainer.prepare(*s.runFor(api::GraphKind::Gradient).engine);
  if (!trainer.restore(static_cast<int64_t>(step), st->tensors, err))
    throw Error(path + ": " + err + "; it was saved with " + meta["optimizer"]);
  for (auto &[name, t] : values)
    s.setLeaf(name, std::move(t), s.leafOp(name, "parameter or state"));
  // The run continues the checkpoint's: its seed for every graph made from
  // now on, and its noise counter for the one that trains.
  s.seed = seed;
  s.runs[static_cast<int>(api::GraphKind::Gradient)].engine->setNoiseSeed(seed, noiseCall);
  return meta;
}

std::shared_ptr<Model> Session::model() const { return impl_->model; }

} // namespace gradc
