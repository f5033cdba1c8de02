//===- codegen/UpdateKernel.cpp - The optimizer's fused update -------------===//
#include "codegen/UpdateKernel.h"

#include "runtime/ThreadPool.h"
#include "support/Assert.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cmath>
#include <functional>

namespace gradc::codegen {

using runtime::OptimizerKind;

/// What both kernels receive (field order is the generated code's).
struct UpdateKernel::Args {
  float *const *params;
  const float *const *grads;
  float *const *state0;
  float *const *state1;
  const float *hyper;
  double *partials;
};

namespace {

/// Elements per chunk of the squared-norm kernel (fixed: the partial sums,
/// added in chunk order, must not depend on the thread count).
constexpr int64_t kNormChunk = 16384;
/// Elements per piece of the update split across threads.
constexpr int64_t kUpdateGrain = 8192;

/// The hyperparameters' slots in Args::hyper, set for each step.
enum Hyper { Scale, Rate, A1, A2, A3, A4, Eps, Decay, Bc2Sqrt, HyperCount };

struct Builder {
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
  llvm::Function *fn;
  explicit Builder(llvm::Function *f)
      : ctx(f->getContext()), b(llvm::BasicBlock::Create(f->getContext(), "entry", f)), fn(f) {
    llvm::FastMathFlags fmf;
    fmf.setAllowContract(true); // a*b + c may fuse, as in PyTorch's CPU kernels
    b.setFastMathFlags(fmf);
  }
  llvm::Value *i64(int64_t v) { return b.getInt64(v); }
  llvm::Value *smax(llvm::Value *x, llvm::Value *y) {
    return b.CreateSelect(b.CreateICmpSGT(x, y), x, y);
  }
  llvm::Value *smin(llvm::Value *x, llvm::Value *y) {
    return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
  }
  /// for (i = lo; i < hi; ++i) body(i), guarded.
  void loop(llvm::Value *lo, llvm::Value *hi, const std::function<void(llvm::Value *)> &body) {
    auto *bodyBB = llvm::BasicBlock::Create(ctx, "loop", fn);
    auto *exit = llvm::BasicBlock::Create(ctx, "done", fn);
    b.CreateCondBr(b.CreateICmpSLT(lo, hi), bodyBB, exit);
    llvm::BasicBlock *pre = b.GetInsertBlock();
    b.SetInsertPoint(bodyBB);
    llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
    i->addIncoming(lo, pre);
    body(i);
    llvm::Value *next = b.CreateAdd(i, i64(1), "", true, true);
    i->addIncoming(next, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpSLT(next, hi), bodyBB, exit);
    b.SetInsertPoint(exit);
  }
  /// table[k], a pointer.
  llvm::Value *entry(llvm::Value *table, int64_t k) {
    return b.CreateLoad(b.getPtrTy(), b.CreateGEP(b.getPtrTy(), table, i64(k)));
  }
};

llvm::Function *declare(llvm::Module &m, const char *name) {
  llvm::LLVMContext &c = m.getContext();
  auto *ty = llvm::FunctionType::get(
      llvm::Type::getVoidTy(c),
      {llvm::PointerType::get(c, 0), llvm::Type::getInt64Ty(c), llvm::Type::getInt64Ty(c)}, false);
  auto *f = llvm::Function::Create(ty, llvm::Function::ExternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  return f;
}

/// The field `index` of Args, a pointer.
llvm::Value *field(Builder &B, llvm::Value *args, int index) {
  return B.b.CreateLoad(B.b.getPtrTy(), B.b.CreateGEP(B.b.getPtrTy(), args, B.i64(index)));
}

/// For each parameter k, the part of [begin, end) (flat indices) it covers,
/// as a loop over its own elements: body(k, i).
/// `setup(k)` runs before parameter k's loop: it loads the buffers' addresses
/// from the tables there, where the loop's stores (which, as far as LLVM
/// knows, could hit the tables) do not stop them from staying put, so that
/// the loop vectorizes.
void overPieces(Builder &B, const std::vector<int64_t> &sizes, llvm::Value *begin, llvm::Value *end,
                const std::function<void(size_t)> &setup,
                const std::function<void(size_t, llvm::Value *)> &body) {
  int64_t offset = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    llvm::Value *lo = B.smax(B.b.CreateSub(begin, B.i64(offset)), B.i64(0));
    llvm::Value *hi = B.smin(B.b.CreateSub(end, B.i64(offset)), B.i64(sizes[k]));
    setup(k);
    B.loop(lo, hi, [&](llvm::Value *i) { body(k, i); });
    offset += sizes[k];
  }
}

void emitUpdate(llvm::Module &m, const runtime::OptimizerConfig &c,
                const std::vector<int64_t> &sizes) {
  llvm::Function *f = declare(m, "gradc_update");
  Builder B(f);
  llvm::IRBuilder<> &b = B.b;
  llvm::Value *args = f->getArg(0);
  llvm::Value *params = field(B, args, 0), *grads = field(B, args, 1);
  llvm::Value *s0 = field(B, args, 2), *s1 = field(B, args, 3), *hyper = field(B, args, 4);
  llvm::Type *f32 = b.getFloatTy();
  std::vector<llvm::Value *> h(HyperCount);
  for (int i = 0; i < HyperCount; ++i)
    h[i] = b.CreateLoad(f32, b.CreateGEP(f32, hyper, B.i64(i)));
  auto sqrt = [&](llvm::Value *x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x); };
  llvm::Value *pk = nullptr, *gk = nullptr, *s0k = nullptr, *s1k = nullptr;
  size_t states = c.stateNames().size();
  auto setup = [&](size_t k) {
    pk = B.entry(params, k);
    gk = B.entry(grads, k);
    s0k = states > 0 ? B.entry(s0, k) : nullptr;
    s1k = states > 1 ? B.entry(s1, k) : nullptr;
  };
  overPieces(B, sizes, f->getArg(1), f->getArg(2), setup, [&](size_t, llvm::Value *i) {
    llvm::Value *p = b.CreateGEP(f32, pk, i);
    llvm::Value *g = b.CreateFMul(b.CreateLoad(f32, b.CreateGEP(f32, gk, i)), h[Scale]);
    llvm::Value *pv = b.CreateLoad(f32, p);
    llvm::Value *next = nullptr;
    switch (c.kind) {
    case OptimizerKind::Sgd:
      next = b.CreateFSub(pv, b.CreateFMul(h[Rate], g));
      break;
    case OptimizerKind::Momentum: {
      llvm::Value *at = b.CreateGEP(f32, s0k, i);
      llvm::Value *buf = b.CreateFAdd(b.CreateFMul(h[A1], b.CreateLoad(f32, at)), g);
      b.CreateStore(buf, at);
      next = b.CreateFSub(pv, b.CreateFMul(h[Rate], buf));
      break;
    }
    case OptimizerKind::RmsProp: {
      llvm::Value *at = b.CreateGEP(f32, s0k, i);
      llvm::Value *sq = b.CreateFAdd(b.CreateFMul(h[A1], b.CreateLoad(f32, at)),
                                     b.CreateFMul(h[A2], b.CreateFMul(g, g)));
      b.CreateStore(sq, at);
      llvm::Value *avg = b.CreateFAdd(sqrt(sq), h[Eps]);
      next = b.CreateFSub(pv, b.CreateFMul(h[Rate], b.CreateFDiv(g, avg)));
      break;
    }
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW: {
      if (c.kind == OptimizerKind::AdamW)
        pv = b.CreateFMul(pv, h[Decay]);
      llvm::Value *mAt = b.CreateGEP(f32, s0k, i);
      llvm::Value *vAt = b.CreateGEP(f32, s1k, i);
      llvm::Value *mv =
          b.CreateFAdd(b.CreateFMul(h[A1], b.CreateLoad(f32, mAt)), b.CreateFMul(h[A2], g));
      llvm::Value *vv = b.CreateFAdd(b.CreateFMul(h[A3], b.CreateLoad(f32, vAt)),
                                     b.CreateFMul(h[A4], b.CreateFMul(g, g)));
      b.CreateStore(mv, mAt);
      b.CreateStore(vv, vAt);
      llvm::Value *denom = b.CreateFAdd(b.CreateFDiv(sqrt(vv), h[Bc2Sqrt]), h[Eps]);
      next = b.CreateFSub(pv, b.CreateFMul(h[Rate], b.CreateFDiv(mv, denom)));
      break;
    }
    }
    b.CreateStore(next, p);
  });
  b.CreateRetVoid();
}

void emitSumOfSquares(llvm::Module &m, const std::vector<int64_t> &sizes, int64_t total) {
  llvm::Function *f = declare(m, "gradc_sumsq");
  Builder B(f);
  llvm::IRBuilder<> &b = B.b;
  llvm::Value *args = f->getArg(0);
  llvm::Value *grads = field(B, args, 1), *partials = field(B, args, 5);
  llvm::Type *f32 = b.getFloatTy(), *f64 = b.getDoubleTy();
  llvm::Value *acc = b.CreateAlloca(f64);
  B.loop(f->getArg(1), f->getArg(2), [&](llvm::Value *chunk) {
    b.CreateStore(llvm::ConstantFP::get(f64, 0.0), acc);
    llvm::Value *from = b.CreateMul(chunk, B.i64(kNormChunk));
    llvm::Value *to = B.smin(b.CreateAdd(from, B.i64(kNormChunk)), B.i64(total));
    llvm::Value *gk = nullptr;
    auto setup = [&](size_t k) { gk = B.entry(grads, k); };
    overPieces(B, sizes, from, to, setup, [&](size_t, llvm::Value *i) {
      llvm::Value *g = b.CreateFPExt(b.CreateLoad(f32, b.CreateGEP(f32, gk, i)), f64);
      auto *sum =
          llvm::cast<llvm::Instruction>(b.CreateFAdd(b.CreateLoad(f64, acc), b.CreateFMul(g, g)));
      llvm::FastMathFlags fm = sum->getFastMathFlags();
      fm.setAllowReassoc(true); // vectorized partial sums, in an order fixed by the code
      sum->setFastMathFlags(fm);
      b.CreateStore(sum, acc);
    });
    b.CreateStore(b.CreateLoad(f64, acc), b.CreateGEP(f64, partials, chunk));
  });
  b.CreateRetVoid();
}

} // namespace

UpdateKernel::UpdateKernel(const runtime::OptimizerConfig &c, std::vector<int64_t> sizes,
                           int optLevel)
    : config_(c), sizes_(std::move(sizes)) {
  for (int64_t n : sizes_)
    total_ += n;
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto m = std::make_unique<llvm::Module>("gradc.update", *ctx);
  emitUpdate(*m, c, sizes_);
  emitSumOfSquares(*m, sizes_, total_);
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(*m, &os))
    throw InternalError("the optimizer kernel is not valid LLVM IR: " + os.str());
  code_ = compileModule(std::move(ctx), std::move(m), optLevel);
  update_ = reinterpret_cast<decltype(update_)>(code_->lookup("gradc_update"));
  sumsq_ = reinterpret_cast<decltype(sumsq_)>(code_->lookup("gradc_sumsq"));
}

UpdateKernel::~UpdateKernel() = default;

UpdateKernel::Args UpdateKernel::argsFor(const Buffers &b) const {
  GRADC_ASSERT(b.params.size() == sizes_.size() && b.grads.size() == sizes_.size() &&
                   b.state.size() == sizes_.size(),
               "optimizer buffers for another parameter list");
  Args a{b.params.data(), b.grads.data(), nullptr, nullptr, nullptr, nullptr};
  return a;
}

namespace {

/// Runs fn over [0, n) in pieces of at least `grain`, on the pool if any.
void split(runtime::ThreadPool *pool, int64_t n, int64_t grain,
           const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  if (pool)
    pool->parallelFor(n, grain, fn);
  else
    fn(0, n);
}

} // namespace

double UpdateKernel::sumOfSquares(const Buffers &b, runtime::ThreadPool *pool) const {
  Args a = argsFor(b);
  int64_t chunks = (total_ + kNormChunk - 1) / kNormChunk;
  std::vector<double> partials(chunks, 0.0);
  a.partials = partials.data();
  split(pool, chunks, 1, [&](int64_t lo, int64_t hi) { sumsq_(&a, lo, hi); });
  double sum = 0;
  for (double p : partials) // in chunk order, whatever the threads
    sum += p;
  return sum;
}

void UpdateKernel::step(const Buffers &b, int64_t t, double scale,
                        runtime::ThreadPool *pool) const {
  GRADC_ASSERT(t >= 1, "optimizer steps count from 1");
  Args a = argsFor(b);
  // Each parameter's first and second state tensors, in tables of their own.
  std::vector<float *> s0(sizes_.size(), nullptr), s1(sizes_.size(), nullptr);
  size_t states = config_.stateNames().size();
  for (size_t k = 0; k < sizes_.size(); ++k) {
    GRADC_ASSERT(b.state[k].size() == states, "optimizer state count");
    if (states > 0)
      s0[k] = b.state[k][0];
    if (states > 1)
      s1[k] = b.state[k][1];
  }
  a.state0 = s0.data();
  a.state1 = s1.data();
  const runtime::OptimizerConfig &c = config_;
  float h[HyperCount] = {};
  h[Scale] = static_cast<float>(scale);
  h[Rate] = static_cast<float>(c.lr);
  switch (c.kind) {
  case OptimizerKind::Sgd:
    break;
  case OptimizerKind::Momentum:
    h[A1] = static_cast<float>(c.beta);
    break;
  case OptimizerKind::RmsProp:
    h[A1] = static_cast<float>(c.alpha);
    h[A2] = static_cast<float>(1 - c.alpha);
    h[Eps] = static_cast<float>(c.eps);
    break;
  case OptimizerKind::Adam:
  case OptimizerKind::AdamW: {
    double bc1 = 1 - std::pow(c.beta1, static_cast<double>(t));
    double bc2 = 1 - std::pow(c.beta2, static_cast<double>(t));
    h[Rate] = static_cast<float>(c.lr / bc1); // torch's step_size
    h[A1] = static_cast<float>(c.beta1);
    h[A2] = static_cast<float>(1 - c.beta1);
    h[A3] = static_cast<float>(c.beta2);
    h[A4] = static_cast<float>(1 - c.beta2);
    h[Eps] = static_cast<float>(c.eps);
    h[Decay] = static_cast<float>(1 - c.lr * c.weightDecay);
    h[Bc2Sqrt] = static_cast<float>(std::sqrt(bc2));
    break;
  }
  }
  a.hyper = h;
  split(pool, total_, kUpdateGrain, [&](int64_t lo, int64_t hi) { update_(&a, lo, hi); });
}

double UpdateKernel::clippedStep(const Buffers &b, int64_t t, runtime::ThreadPool *pool) const {
  double sumsq = config_.clipNorm > 0 ? sumOfSquares(b, pool) : 0.0;
  step(b, t, runtime::clipScale(config_, sumsq), pool);
  return std::sqrt(sumsq);
}

} // namespace gradc::codegen
