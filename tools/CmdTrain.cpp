//===- tools/CmdTrain.cpp - gradc train -----------------------------------===//
//
// Trains a model on data from files (DESIGN.md's SOURCEs, runtime/
// DataSource.h) with the session API's training step: epochs of shuffled
// full batches, the loss and every metric per epoch on the training data
// (averaged over the epoch's steps, as they ran) and on the validation data
// (the evaluation graph, every example counted), a learning-rate schedule,
// checkpoints after every epoch and --resume from one. The choices are
// recorded in docs/training.md.
//
//===----------------------------------------------------------------------===//
#include "api/ArrayConvert.h"
#include "gradc/gradc.h"
#include "ir/OptimizerArgs.h"
#include "runtime/AtomicFile.h"
#include "runtime/DataSource.h"
#include "runtime/Examples.h"
#include "runtime/LrSchedule.h"
#include "support/ParseNumber.h"
#include "tools/Commands.h"
#include "tools/LeafArrays.h"
#include "tools/TrainLog.h"
#include "tools/TrainProgress.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sys/resource.h>

namespace gradc::tool {

namespace {

struct TrainOptions {
  CommonOptions common;
  NativeOptions native;
  std::string data, val;
  int64_t epochs = 10;
  std::string optimizer;
  double lr = 0, momentum = 0, beta1 = 0, beta2 = 0, eps = 0, weightDecay = 0, clip = 0;
  std::string schedule = "constant";
  uint64_t seed = 0;
  std::string save, resume, params, log, plot;
  bool quiet = false;
  /// Which optional flags were given (CLI11 options by name).
  CLI::App *cmd = nullptr;
  bool given(const char *flag) const { return cmd->get_option(flag)->count() > 0; }
};

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// A scalar output: the loss, or a metric (an int one counts, say).
double scalar(const Tensor &t) {
  return t.dtype == DType::I32 ? static_cast<double>(t.i32.at(0))
                               : static_cast<double>(t.f32.at(0));
}

/// The examples of one SOURCE, fitted to the model's inputs.
struct Dataset {
  std::string spec;
  runtime::Examples examples;
};

Dataset loadDataset(const std::string &spec, const Model &model) {
  std::string err;
  std::optional<runtime::DataSource> ds = runtime::loadDataSource(spec, err);
  if (!ds)
    dataError(err);
  std::vector<runtime::InputSlot> slots;
  for (const TensorInfo &in : model.inputs())
    slots.push_back({in.name,
                     in.dtype == DType::I32 ? runtime::ElemType::I32 : runtime::ElemType::F32,
                     std::vector<int64_t>(in.shape.begin() + 1, in.shape.end())});
  std::optional<runtime::Examples> ex = runtime::fitExamples(*ds, slots, err);
  if (!ex)
    dataError(err);
  return {spec, std::move(*ex)};
}

/// Sets the inputs of `s` to examples order[first, first + n) of `d`.
void setBatch(Session &s, const Model &model, const Dataset &d, const std::vector<int64_t> &order,
              int64_t first, int64_t n) {
  std::vector<runtime::HostArray> batch = d.examples.gather(order, first, n);
  std::vector<TensorInfo> ins = model.inputs();
  for (size_t i = 0; i < ins.size(); ++i)
    s.setInput(ins[i].name, api::tensorFromArray(batch[i], ins[i], d.spec, "input"));
}

/// The mean loss and metrics over a whole dataset, in the evaluation graph:
/// full batches in `s`, the remainder in `tail` (the model compiled for the
/// remainder's size), each batch weighted by its examples.
EpochRow evaluate(Session &s, Session *tail, const Dataset &d) {
  const Model &model = *s.model();
  int64_t b = model.inputs()[0].shape[0], n = d.examples.count;
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i;
  std::vector<std::string> metrics = model.metricNames();
  EpochRow row;
  row.split = "val";
  row.metrics.assign(metrics.size(), 0.0);
  auto add = [&](Session &on, int64_t first, int64_t count) {
    setBatch(on, *on.model(), d, order, first, count);
    on.forward();
    double w = static_cast<double>(count) / static_cast<double>(n);
    row.loss += w * scalar(on.output(model.lossName()));
    for (size_t m = 0; m < metrics.size(); ++m)
      row.metrics[m] += w * scalar(on.output(metrics[m]));
  };
  Clock::time_point t0 = Clock::now();
  int64_t full = n / b;
  for (int64_t k = 0; k < full; ++k)
    add(s, k * b, b);
  if (n % b) {
    for (const std::string &name : s.paramNames())
      tail->setParam(name, s.param(name));
    add(*tail, full * b, n % b);
  }
  row.seconds = secondsSince(t0);
  return row;
}

/// The optimizer: the model's, replaced by --optimizer, refined by the flags.
OptimizerSettings chooseOptimizer(const TrainOptions &o, const Model &model) {
  OptimizerSettings s = model.optimizer();
  if (o.given("--optimizer") && o.optimizer != s.name) {
    if (!ir::optimizerArguments(o.optimizer))
      throw UsageError("--optimizer " + o.optimizer +
                       ": use sgd, momentum, rmsprop, adam or adamw");
    s.name = o.optimizer;
    s.args.clear(); // the model's arguments belong to its own optimizer
  }
  const std::vector<std::string> &takes = *ir::optimizerArguments(s.name);
  struct Flag {
    const char *flag, *arg;
    double value;
  };
  for (const Flag &f :
       {Flag{"--lr", "lr", o.lr}, Flag{"--momentum", "beta", o.momentum},
        Flag{"--beta1", "beta1", o.beta1}, Flag{"--beta2", "beta2", o.beta2},
        Flag{"--eps", "eps", o.eps}, Flag{"--weight-decay", "weight_decay", o.weightDecay}}) {
    if (!o.given(f.flag))
      continue;
    if (std::find(takes.begin(), takes.end(), f.arg) == takes.end())
      throw UsageError(std::string(f.flag) + " does not apply to " + s.name +
                       " (the optimizer of this run; choose another with --optimizer)");
    s.args[f.arg] = f.value;
  }
  if (o.given("--clip"))
    s.clipNorm = o.clip;
  return s;
}

std::string metadataOr(const std::map<std::string, std::string> &meta, const std::string &key,
                       const std::string &path) {
  auto it = meta.find(key);
  if (it == meta.end())
    dataError(path + ": the checkpoint has no '" + key + "' (not written by gradc train)");
  return it->second;
}

void writeText(const std::string &path, const std::string &text) {
  runtime::AtomicFile f(path);
  std::string err;
  if (!f.open(err) || !f.write(text, err) || !f.commit(err))
    dataError(err);
}

double peakMegabytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string describeRow(const EpochRow &r, const std::vector<std::string> &metrics) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "loss %.4f", r.loss);
  std::string out = buf;
  for (size_t m = 0; m < metrics.size(); ++m) {
    std::snprintf(buf, sizeof buf, "  %s %.4f", metrics[m].c_str(), r.metrics[m]);
    out += buf;
  }
  return out;
}

int runTrain(const TrainOptions &o) {
  if (!o.resume.empty() && !o.params.empty())
    throw UsageError("--params and --resume both give the parameters; use one");
  Options opts = sessionOptions(o.common, o.native);
  opts.inputGradients = false; // training needs the parameters' gradients only
  opts.warnings = &std::cerr;
  auto model = Model::fromFile(o.common.file, opts);
  if (!model->hasLoss())
    throw Error(o.common.file + ": model '" + model->name() +
                "' minimizes nothing: gradc train needs a 'minimize' statement");
  std::vector<TensorInfo> ins = model->inputs();
  std::string batchDim = model->batchDim();
  if (ins.empty() || batchDim.empty())
    throw Error(o.common.file + ": gradc train needs inputs whose first axis is one batch dim "
                                "(x[B, ...], y[B])");
  int64_t b = ins[0].shape[0];

  Dataset train = loadDataset(o.data, *model);
  if (train.examples.count < b)
    dataError(o.data + ": " + std::to_string(train.examples.count) +
              " examples, fewer than one batch of " + std::to_string(b) + " (-D " + batchDim +
              "=N sets the batch size)");
  std::optional<Dataset> val;
  if (!o.val.empty())
    val = loadDataset(o.val, *model);

  Session s(model, o.seed);
  s.setOptimizer(chooseOptimizer(o, *model));
  std::string err;
  std::optional<runtime::LrSchedule> schedule =
      runtime::LrSchedule::parse(o.schedule, s.learningRate(), err);
  if (!schedule)
    throw UsageError(err); // names the flag and the spec already

  // The log of every epoch so far, and where this run starts.
  TrainLog log;
  log.metrics = model->metricNames();
  int64_t start = 0;
  uint64_t seed = o.seed;
  if (!o.params.empty())
    s.loadParams(o.params);
  if (!o.resume.empty()) {
    std::map<std::string, std::string> meta = s.loadCheckpoint(o.resume);
    auto count = [&](const std::string &key) {
      std::string v = metadataOr(meta, key, o.resume);
      std::optional<uint64_t> n = parseCount(v);
      if (!n)
        dataError(o.resume + ": the checkpoint's '" + key + "' is '" + v + "', not a count");
      return *n;
    };
    start = static_cast<int64_t>(count("epoch"));
    seed = count("seed"); // the examples' order continues as it began
    if (metadataOr(meta, "lr_schedule", o.resume) != schedule->describe())
      throw UsageError("--lr-schedule " + schedule->describe() +
                       ": the checkpoint was trained with " + meta["lr_schedule"]);
    runtime::LrSchedule::State st;
    st.best = std::strtod(metadataOr(meta, "lr_best", o.resume).c_str(), nullptr);
    st.current = std::strtod(metadataOr(meta, "lr_current", o.resume).c_str(), nullptr);
    schedule->setState(st);
    std::optional<TrainLog> saved =
        TrainLog::parseCsv(metadataOr(meta, "log", o.resume), log.metrics, err);
    if (!saved)
      dataError(o.resume + ": " + err);
    log = std::move(*saved);
    log.truncate(start);
  }

  int64_t n = train.examples.count, stepsPerEpoch = n / b;
  std::cout << "training " << model->name() << " on " << n << " examples (" << stepsPerEpoch
            << " batches of " << b << ")";
  if (val)
    std::cout << ", validating on " << val->examples.count;
  std::cout << "\noptimizer " << s.optimizerDescription() << ", schedule " << schedule->describe()
            << "\n";
  if (start > 0)
    std::cout << "resuming after epoch " << start << " (step " << s.steps() << ")\n";
  if (start >= o.epochs)
    std::cout << "the checkpoint has trained " << start << " epochs already; --epochs is the "
              << "total\n";

  // The remainder of the validation set runs at its own batch size.
  std::shared_ptr<Model> tailModel;
  std::unique_ptr<Session> tail;
  if (val && val->examples.count % b) {
    Options to = opts;
    to.dims.emplace_back(batchDim, val->examples.count % b);
    tailModel = Model::fromFile(o.common.file, to);
    tail = std::make_unique<Session>(tailModel, o.seed);
  }

  // Compiled before the clock starts, so that epoch times are training alone.
  s.compile(true);
  if (s.gradientNames().empty())
    std::cerr << "gradc: warning: the loss of model '" << model->name()
              << "' depends on no parameter: training changes nothing\n";
  if (val)
    s.compile(false);
  if (tail)
    tail->compile(false);

  std::vector<std::string> metrics = model->metricNames();
  TrainProgress progress(!o.quiet);
  Clock::time_point begun = Clock::now();
  for (int64_t epoch = start; epoch < o.epochs; ++epoch) {
    s.setLearningRate(schedule->rate(epoch));
    std::vector<int64_t> order = runtime::epochOrder(n, seed, static_cast<uint64_t>(epoch));
    EpochRow row;
    row.epoch = epoch + 1;
    row.split = "train";
    row.metrics.assign(metrics.size(), 0.0);
    Clock::time_point t0 = Clock::now();
    progress.startEpoch(epoch + 1, o.epochs, stepsPerEpoch, b);
    for (int64_t k = 0; k < stepsPerEpoch; ++k) {
      setBatch(s, *model, train, order, k * b, b);
      double loss = s.trainStep();
      if (!std::isfinite(loss)) {
        progress.finish();
        std::string what = std::isnan(loss) ? "NaN" : loss > 0 ? "+inf" : "-inf";
        throw Error("training diverged: the loss is " + what + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(k + 1) +
                    " (try a smaller --lr, or --clip)");
      }
      row.loss += loss;
      for (size_t m = 0; m < metrics.size(); ++m)
        row.metrics[m] += scalar(s.output(metrics[m]));
      progress.step(k + 1, row.loss / static_cast<double>(k + 1));
    }
    progress.finish();
    row.loss /= static_cast<double>(stepsPerEpoch);
    for (double &m : row.metrics)
      m /= static_cast<double>(stepsPerEpoch);
    row.seconds = secondsSince(t0);
    log.rows.push_back(row);
    std::printf("epoch %lld/%lld  train %s  (%.2f s)", static_cast<long long>(epoch + 1),
                static_cast<long long>(o.epochs), describeRow(row, metrics).c_str(), row.seconds);
    if (schedule->kind() != runtime::LrSchedule::Kind::Constant)
      std::printf("  lr %g", s.learningRate());
    double judged = row.loss; // what the plateau schedule watches
    if (val) {
      EpochRow v = evaluate(s, tail.get(), *val);
      v.epoch = epoch + 1;
      log.rows.push_back(v);
      judged = v.loss;
      std::printf("  val %s", describeRow(v, metrics).c_str());
    }
    std::printf("\n");
    std::fflush(stdout);
    schedule->endEpoch(epoch, judged);

    if (!o.save.empty()) {
      if (o.save.ends_with(".npz")) {
        s.saveParams(o.save); // parameters alone: no --resume from it
      } else {
        runtime::LrSchedule::State st = schedule->state();
        char best[40], current[40];
        std::snprintf(best, sizeof best, "%.17g", st.best);
        std::snprintf(current, sizeof current, "%.17g", st.current);
        s.saveCheckpoint(o.save, {{"epoch", std::to_string(epoch + 1)},
                                  {"lr_schedule", schedule->describe()},
                                  {"lr_best", best},
                                  {"lr_current", current},
                                  {"log", log.csv()}});
      }
    }
    if (!o.log.empty())
      writeText(o.log, log.csv());
    if (!o.plot.empty())
      writeText(o.plot, log.svg(model->name()));
  }
  if (o.epochs > start)
    std::printf("trained %lld epoch%s in %.1f s; peak memory %.0f MB\n",
                static_cast<long long>(o.epochs - start), o.epochs - start == 1 ? "" : "s",
                secondsSince(begun), peakMegabytes());
  // Written even when no epoch ran, so a finished run can be re-plotted.
  if (!o.log.empty())
    writeText(o.log, log.csv());
  if (!o.plot.empty())
    writeText(o.plot, log.svg(model->name()));
  return kOk;
}

} // namespace

Command addTrain(CLI::App &app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App *cmd = app.add_subcommand("train", "train a model on data from files");
  o->cmd = cmd;
  o->common.add(*cmd);
  cmd->add_option("--data", o->data,
                  "training data: FILE.npz, or NAME=FILE,... of .npy, IDX (gzip'd or not) and "
                  "text:FILE")
      ->required();
  cmd->add_option("--val", o->val, "validation data, as --data");
  cmd->add_option("--epochs", o->epochs, "epochs in all (with --resume, the total)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  cmd->add_option("--optimizer", o->optimizer,
                  "sgd, momentum, rmsprop, adam or adamw (default: the model's, else adam)");
  cmd->add_option("--lr", o->lr, "learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--momentum", o->momentum, "momentum's beta")->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--beta1", o->beta1, "adam's beta1")->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--beta2", o->beta2, "adam's beta2")->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--eps", o->eps, "rmsprop's and adam's epsilon")->check(CLI::PositiveNumber);
  cmd->add_option("--weight-decay", o->weightDecay, "adamw's weight decay")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--clip", o->clip, "clip the global gradient norm to X (0: no clipping)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr-schedule", o->schedule,
                  "constant, step:EVERY:FACTOR or plateau:FACTOR (the rate is divided by FACTOR)");
  cmd->add_option("--seed", o->seed, "seed of the initial weights, the noise and the order");
  cmd->add_option("--save", o->save,
                  "checkpoint after every epoch (.safetensors; .npz: the parameters alone)");
  cmd->add_option("--resume", o->resume, "continue from a .safetensors checkpoint of --save");
  cmd->add_option("--params", o->params, "start from these parameters (.npz or .safetensors)");
  cmd->add_option("--log", o->log, "write epoch,split,loss,<metrics>,seconds rows (CSV)");
  cmd->add_option("--plot", o->plot, "draw the loss and metric curves (SVG)");
  cmd->add_flag("--quiet", o->quiet, "no progress bar, even on a terminal");
  o->native.add(*cmd);
  return {cmd, [o] { return runTrain(*o); }};
}

} // namespace gradc::tool
