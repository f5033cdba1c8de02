//===- include/gradc/gradc.h - gradc's C++ API ----------------------------===//
//
// Compile a model written in gradc's language and run it from C++:
//
//   auto model = gradc::Model::fromFile("models/mlp_skip.grad");
//   gradc::Session s(model, /*seed=*/0);      // parameters from their initializers
//   s.setInput("x", x);
//   s.setInput("y", y);
//   s.backward();                             // forward + backward, native code
//   float loss = s.output("loss").f32[0];
//   gradc::Tensor gW = s.gradient("a1.W");
//
// and to train it (with Options::inputGradients = false):
//
//   s.setOptimizer({"adam", {{"lr", 1e-3}}, /*clipNorm=*/5.0});
//   for (...) { s.setInput("x", x); s.setInput("y", y); s.trainStep(); }
//   s.saveCheckpoint("ckpt.safetensors");
//
// A Model holds the checked program and compiles what a Session asks for:
// the evaluation graph (`training` = 0) for forward(), the training graph
// with its backward pass for backward() and trainStep(). A Session holds the
// parameters, state and inputs, shared by all graphs. Errors in what the caller gave
// (the model source, a tensor of the wrong shape, a parameter file, an
// out-of-range index in the data) throw gradc::Error with a message that
// names the file, line and column where there is one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gradc {

/// An error in what the caller gave; what() holds the diagnostics.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An error in how a model was asked for rather than in its source or data:
/// an unknown Options::model or dim name (the command line's exit status 2).
class UsageError : public Error {
public:
  using Error::Error;
};

enum class DType { F32, I32 };

/// A dense tensor in C (row-major) order: f32 holds the elements of a DType::F32
/// tensor, i32 those of a DType::I32 one.
struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int32_t> i32;

  /// The number of elements (1 for a scalar).
  int64_t size() const;
  /// A float tensor of `shape` holding `values` (which must have size() elements).
  static Tensor floats(std::vector<int64_t> shape, std::vector<float> values);
  /// An int tensor of `shape` holding `values`.
  static Tensor ints(std::vector<int64_t> shape, std::vector<int32_t> values);
};

/// A tensor a model declares.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

struct Options {
  /// Dim overrides, as `-D T=100` on the command line.
  std::vector<std::pair<std::string, int64_t>> dims;
  /// The model to compile when the source holds several (empty: the first).
  std::string model;
  int optLevel = 2;      ///< LLVM's optimization level, 0..3
  int threads = 0;       ///< threads for native code; 0: every core
  bool cache = true;     ///< reuse compiled code from the on-disk cache
  std::string cacheDir;  ///< empty: $XDG_CACHE_HOME/gradc or ~/.cache/gradc
  bool remat = false;    ///< checkpoint recurrences every √T steps in backward()
  /// backward() also differentiates with respect to the f32 inputs; training
  /// and benchmarks need the parameters only.
  bool inputGradients = true;
  bool interpreter = false; ///< run the reference interpreter (double precision)
  /// Where warnings go as they are found, with their source lines (the
  /// command line passes std::cerr); null drops them. Errors are thrown.
  std::ostream *warnings = nullptr;
  /// Time every kernel call of native code (Session::profile); costs a
  /// clock read per kernel.
  bool profile = false;
};

/// What compiling one of a session's graphs cost and what it holds.
struct CompileInfo {
  double llvmMs = 0;        ///< time in LLVM (0 when the code came from the cache)
  bool fromCache = false;   ///< loaded from the on-disk cache
  int64_t plannedBytes = 0; ///< memory planned: the arena plus the leaf buffers
  int threads = 1;          ///< threads the code runs on
};

/// The time one generated kernel took (Options::profile).
struct KernelTime {
  std::string name;     ///< the generated function, named after its equation ("h@23:13")
  std::string kind;     ///< the op it computes: "gemm", "remap", "mul", ...
  std::string location; ///< the equation's file and line, "model.grad:23"
  double ms = 0;        ///< summed over every pass so far
};

/// An optimizer for Session::trainStep, as LANGUAGE.md's `optimizer` and
/// `clip_norm` statements give one (docs/training.md states the rules).
struct OptimizerSettings {
  std::string name = "adam"; ///< sgd, momentum, rmsprop, adam or adamw
  /// lr, beta (momentum), alpha (rmsprop), eps, beta1, beta2, weight_decay
  /// (adamw); what is omitted takes its default (lr: 1e-3).
  std::map<std::string, double> args;
  double clipNorm = 0; ///< global gradient-norm clipping; 0: none
};

/// A checked model; compiles its graphs when a Session first needs them.
class Model {
public:
  /// Loads and checks a model file. Throws Error with the diagnostics.
  static std::shared_ptr<Model> fromFile(const std::string &path, const Options &opts = {});
  /// The same from source text; `name` stands for the file in diagnostics.
  static std::shared_ptr<Model> fromString(const std::string &source, const Options &opts = {},
                                           const std::string &name = "<string>");
  ~Model();

  const std::string &name() const;
  std::vector<TensorInfo> inputs() const;
  /// Noise tensors, which Session::setInput may hold fixed.
  std::vector<TensorInfo> noise() const;
  std::vector<TensorInfo> params() const; ///< parameters, then state
  /// Outputs, then the minimized scalar and the metrics, by name.
  std::vector<TensorInfo> outputs() const;
  bool hasLoss() const;
  /// The name of the minimized scalar (empty without one).
  std::string lossName() const;
  /// The names of the model's metrics, in order.
  std::vector<std::string> metricNames() const;
  /// The model's `optimizer` and `clip_norm`, or else adam(lr = 1e-3).
  OptimizerSettings optimizer() const;
  /// The dim that sizes the first axis of the inputs (the batch), or ""
  /// when the inputs disagree or have none.
  std::string batchDim() const;
  const Options &options() const;

  struct Impl;
  Impl &impl() const { return *impl_; }

protected:
  explicit Model(std::unique_ptr<Impl> impl); ///< made by fromFile and fromString

private:
  std::unique_ptr<Impl> impl_;
};

/// Parameters, state and inputs of one model, and the runs over them.
class Session {
public:
  /// Parameters and state are drawn from their initializers with `seed`
  /// (the same seed gives the same weights on every run and thread count);
  /// noise is drawn from it too, afresh on every pass.
  explicit Session(std::shared_ptr<Model> model, uint64_t seed = 0);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Sets an input (or holds a noise tensor fixed). Throws Error for an
  /// unknown name or a wrong shape or type.
  void setInput(const std::string &name, Tensor value);
  /// Gives every input that has no value one drawn from `seed`: f32 inputs
  /// normal(0, 1), int inputs uniform over the positions they index (for
  /// benchmarks and smoke tests).
  void fillMissingInputs(uint64_t seed);
  /// Compiles the graph that forward() (or, with `gradient`, backward())
  /// runs, so that the first call does not pay for it; a second call
  /// returns what the first compile cost.
  CompileInfo compile(bool gradient);
  /// With Options::profile, native code: every kernel of that graph, the
  /// slowest first (empty before it is compiled, or in the interpreter).
  std::vector<KernelTime> profile(bool gradient) const;
  /// The forward pass of the evaluation graph (`training` = 0), or with
  /// `trainingGraph` of the training graph (`training` = 1: batch
  /// statistics, dropout) without a backward pass.
  void forward(bool trainingGraph = false);
  /// The forward pass of the training graph, then its backward pass: the
  /// gradients of the minimized scalar with respect to every parameter
  /// and f32 input. `update` statements are not applied.
  void backward();
  /// An output, the minimized scalar or a metric from the last pass.
  Tensor output(const std::string &name) const;
  /// The gradient of a parameter or f32 input (Options::inputGradients)
  /// from the last backward().
  Tensor gradient(const std::string &name) const;
  /// What gradient() accepts: the parameters and f32 inputs (the latter with
  /// Options::inputGradients), in the order the model declares them.
  std::vector<std::string> gradientNames() const;

  std::vector<std::string> paramNames() const;
  Tensor param(const std::string &name) const;
  void setParam(const std::string &name, const Tensor &value);
  /// Writes every parameter and state tensor to `path` (atomically): a
  /// .safetensors file when the path ends so, else a .npz file.
  void saveParams(const std::string &path) const;
  /// Reads parameters and state from a .npz or .safetensors file, told
  /// apart by content (float64 and int64 arrays are converted when their
  /// values fit); names missing from the file keep their values. Throws
  /// Error for a bad file or a mismatch.
  void loadParams(const std::string &path);

  /// The model this session runs.
  std::shared_ptr<Model> model() const;

  // Training. Sessions that train should set Options::inputGradients =
  // false: the step needs the parameters' gradients only.

  /// Chooses the optimizer of trainStep() (by default the model's); its
  /// state and step count start afresh. Throws Error for an unknown name,
  /// argument or an out-of-range value.
  void setOptimizer(const OptimizerSettings &settings);
  /// "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-08)".
  std::string optimizerDescription();
  /// Sets the rate of later steps (a schedule's); keeps the state.
  void setLearningRate(double lr);
  double learningRate();
  /// One training step on the inputs set: the training graph's forward and
  /// backward passes, the optimizer's update of every parameter that has a
  /// gradient, then the model's `update` statements (batch-norm running
  /// statistics). Returns the minimized scalar, computed before the update;
  /// output() gives the metrics of the same pass.
  double trainStep();
  /// Training steps taken (restored by loadCheckpoint).
  int64_t steps() const;
  /// The 2-norm of all parameters' gradients in the last training step.
  double lastGradientNorm() const;
  /// Writes a checkpoint atomically as .safetensors: every parameter and
  /// state tensor, the optimizer's state, the step and noise counters, and
  /// `metadata` (what a command line needs to resume: epoch, schedule).
  void saveCheckpoint(const std::string &path,
                      const std::map<std::string, std::string> &metadata = {});
  /// Restores what saveCheckpoint wrote, so that training continues
  /// exactly as it would have; returns the metadata. Checks the whole file
  /// before changing anything: a bad file, another model's or another
  /// optimizer's checkpoint is an Error that leaves the session as it was.
  std::map<std::string, std::string> loadCheckpoint(const std::string &path);

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace gradc
