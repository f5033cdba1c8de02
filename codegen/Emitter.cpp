//===- codegen/Emitter.cpp - Module, entries, kernels and recurrences -----===//
#include "codegen/Emitter.h"

#include "codegen/KernelAbi.h"
#include "ir/ContractShape.h"
#include "support/Assert.h"

#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cctype>

namespace gradc::codegen {

using ir::OpClass;
using ir::OpKind;

struct Emitter::ShardState {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> mod;
  std::unique_ptr<llvm::IRBuilder<>> b;
  llvm::StructType *ctxTy = nullptr;
};

Emitter::Emitter(const ir::Graph &g, const MemoryPlan &plan, EmitOptions opts, int shards)
    : g_(g), plan_(plan), opts_(opts) {
  for (int i = 0; i < std::max(1, shards); ++i)
    shards_.push_back(std::make_unique<ShardState>());
}

Emitter::~Emitter() = default;

void Emitter::useShard(size_t i) {
  ShardState &s = *shards_[i];
  lctx_ = s.ctx.get();
  mod_ = s.mod.get();
  b_ = s.b.get();
  ctxTy_ = s.ctxTy;
}

std::string Emitter::kernelName(const ir::Op &op) const {
  // The value the equation defines and where it is written, line:column:
  // "h@30:3", "bwd.grad.W@12:9"; a temporary (a part of an equation) goes
  // by its operation, "contract@16:23".
  std::string value = op.results.empty() ? std::string(op.mnemonic()) : op.result()->name;
  if (value.empty() || std::isdigit(static_cast<unsigned char>(value[0])))
    value = op.mnemonic();
  std::string where;
  if (op.loc.valid())
    where = "@" + std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col);
  return (op.backward ? "bwd." : "") + value + where;
}

std::vector<Shard> Emitter::emit(const std::string &moduleName) {
  for (size_t i = 0; i < shards_.size(); ++i) {
    ShardState &s = *shards_[i];
    s.ctx = std::make_unique<llvm::LLVMContext>();
    s.mod = std::make_unique<llvm::Module>(moduleName + "." + std::to_string(i), *s.ctx);
    s.b = std::make_unique<llvm::IRBuilder<>>(*s.ctx);
    // contract: a*b+c may become one fused multiply-add (as in PyTorch's
    // kernels); nothing else is relaxed, so NaN and infinity behave as in C.
    llvm::FastMathFlags fmf;
    fmf.setAllowContract(true);
    s.b->setFastMathFlags(fmf);
    llvm::Type *p = s.b->getPtrTy();
    s.ctxTy = llvm::StructType::create(*s.ctx, {p, p, p, p, s.b->getInt32Ty(), p}, "gradc.ctx");
  }
  useShard(0);

  // Step variables: one slot in KernelContext::steps per recurrence.
  int n = 0;
  std::function<void(const ir::Region &)> number = [&](const ir::Region &r) {
    for (auto &op : r.ops)
      if (op->kind == OpKind::Recurrence) {
        steps_[op->body->args[0]] = {op.get(), n++};
        number(*op->body);
      }
  };
  number(g_.top);

  for (bool backward : {false, true}) {
    auto *fty = llvm::FunctionType::get(b_->getVoidTy(), {ptr()}, false);
    entry_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage,
                                    backward ? kBackwardEntry : kForwardEntry, *mod_);
    entryCtx_ = entry_->getArg(0);
    entryCtx_->setName("ctx");
    auto *start = llvm::BasicBlock::Create(*lctx_, "entry", entry_);
    exitBlock_ = llvm::BasicBlock::Create(*lctx_, "exit", entry_);
    b_->SetInsertPoint(start);
    emitRegion(g_.top, backward, true);
    b_->CreateBr(exitBlock_);
    b_->SetInsertPoint(exitBlock_);
    b_->CreateRetVoid();
  }
  std::vector<Shard> out;
  for (auto &s : shards_) {
    std::string err;
    llvm::raw_string_ostream os(err);
    GRADC_ASSERT(!llvm::verifyModule(*s->mod, &os), "generated LLVM IR is malformed: " + os.str());
    out.push_back({std::move(s->ctx), std::move(s->mod)});
  }
  return out;
}

void Emitter::emitRegion(const ir::Region &r, bool backward, bool filter) {
  for (auto &op : r.ops)
    if (!filter || op->backward == backward)
      emitOp(*op);
}

void Emitter::emitOp(const ir::Op &op) {
  switch (op.opClass()) {
  case OpClass::Leaf:
    if (op.kind == OpKind::Constant || op.kind == OpKind::Iota) {
      if (plan_.slot(op.result()).kind == Slot::Arena)
        callKernel(kernelFor(op, [&] { emitFill(op); }), op.result()->type.numElements(),
                   op.result()->type.numElements(), true, false);
    }
    return; // inputs, params, state and noise are the session's
  case OpClass::Recurrence:
    emitRecurrence(op);
    return;
  case OpClass::Yield:
    callKernel(kernelFor(op, [&] { emitYield(op); }), 1, 1, false, false);
    return;
  default:
    break;
  }
  const ir::TensorType &t = op.result()->type;
  if (t.numElements() == 0)
    return;
  int64_t outer = t.rank() > 0 ? t.shape[0] : 1;
  bool parallel = true, mayFault = false;
  for (const ir::IndexMap &m : op.maps)
    for (const ir::AxisIndex &ax : m)
      mayFault = mayFault || ax.isIndirect();
  std::function<void()> body;
  const char *kind = op.mnemonic();
  switch (op.opClass()) {
  case OpClass::Unary:
  case OpClass::Binary:
  case OpClass::Ternary: // one flat loop over the elements, unless a view is read
    if (plan_.isInlined(op.result()))
      return; // computed by its reader's kernel
    body = [&] { emitElementwise(op); };
    if (!readsView(op))
      outer = t.numElements();
    break;
  case OpClass::Remap:
    if (plan_.isInlined(op.result()))
      return; // a view: its readers read its source
    body = [&] { emitRemap(op); };
    break;
  case OpClass::Scatter: // writes may meet: one thread, unless rows are its own
    body = [&] { emitScatterAdd(op); };
    parallel = scatterOwnsRows(op);
    outer = parallel ? op.operand(0)->type.shape[0] : 1;
    break;
  case OpClass::Contract: // the tier is decided here, once
    if (isGemm(op)) { // one call; the GEMM kernel has its own threads
      kind = "gemm";
      body = [&] { emitGemm(op); };
      parallel = false;
      outer = 1;
    } else if (isDirect(op)) {
      kind = "direct";
      body = [&] { emitDirect(op); };
    } else {
      body = [&] { emitContract(op); };
      if (!op.outMap.empty() || (ir::accumulatesRows(op) && t.rank() < 2)) {
        // Accumulates into its result, or into one row of it: one thread.
        parallel = false;
        outer = 1;
      }
    }
    break;
  case OpClass::Reduce:
    if (plan_.isInlined(op.result()))
      return; // an argmax its scatter computes
    body = [&] { emitReduce(op); };
    break;
  case OpClass::Normalize: { // split over the first axis that is not normalized
    body = [&] { emitNormalize(op); };
    outer = 1;
    for (int a = 0; a < t.rank(); ++a)
      if (std::find(op.axes.begin(), op.axes.end(), a) == op.axes.end()) {
        outer = t.shape[a];
        break;
      }
    break;
  }
  default:
    GRADC_UNREACHABLE(std::string("no native code for ") + op.mnemonic());
  }
  int64_t work = t.numElements();
  if (op.kind == OpKind::Contract)
    for (int64_t r : op.reductionSizes)
      work *= r;
  if (op.opClass() == OpClass::Reduce || op.opClass() == OpClass::Normalize)
    work = op.operand(0)->type.numElements();
  callKernel(kernelFor(op, body, kind), outer, work, parallel, mayFault);
}

std::string Emitter::kernelFor(const ir::Op &op, const std::function<void()> &body,
                               const char *kind) {
  // Names are unique across shards: a kernel in another shard is called
  // through a declaration of the same name.
  std::string name = kernelName(op);
  for (int n = 1; names_.count(name); ++n)
    name = kernelName(op) + "." + std::to_string(n);
  names_.insert(name);
  size_t shard = nextShard_++ % shards_.size();
  llvm::IRBuilder<> *entryBuilder = b_;
  useShard(shard);
  auto *fty = llvm::FunctionType::get(b_->getVoidTy(), {ptr(), i64(), i64()}, false);
  auto *fn = llvm::Function::Create(
      fty, shards_.size() == 1 ? llvm::Function::InternalLinkage : llvm::Function::ExternalLinkage,
      name, *mod_);
  if (shards_.size() > 1)
    fn->setVisibility(llvm::GlobalValue::HiddenVisibility);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  fn->addFnAttr(llvm::Attribute::NoInline); // one function per equation, visible in profiles
  auto saved = b_->saveIP();
  KernelState savedState = std::move(ks_);
  ks_ = KernelState{};
  ks_.fn = fn;
  ks_.ctx = fn->getArg(0);
  ks_.begin = fn->getArg(1);
  ks_.end = fn->getArg(2);
  ks_.ctx->setName("ctx");
  ks_.begin->setName("begin");
  ks_.end->setName("end");
  ks_.id = static_cast<int>(kernels_.size());
  kernels_.push_back({name, op.loc, "", 0, 0, "", kind ? kind : op.mnemonic()});
  auto *entry = llvm::BasicBlock::Create(*lctx_, "entry", fn);
  b_->SetInsertPoint(entry);
  ks_.fault = b_->CreateAlloca(b_->getInt1Ty(), nullptr, "fault");
  b_->CreateStore(b_->getFalse(), ks_.fault);
  body();
  markDisjointTensors();
  // Report a fault once, after the loops, so that they stay branch-free.
  auto *report = llvm::BasicBlock::Create(*lctx_, "report", fn);
  auto *done = llvm::BasicBlock::Create(*lctx_, "done", fn);
  b_->CreateCondBr(b_->CreateLoad(b_->getInt1Ty(), ks_.fault), report, done);
  b_->SetInsertPoint(report);
  llvm::FunctionCallee faultFn =
      mod_->getOrInsertFunction("gradc_rt_fault", b_->getVoidTy(), ptr(), i32());
  b_->CreateCall(faultFn, {ks_.ctx, b_->getInt32(static_cast<uint32_t>(ks_.id))});
  b_->CreateBr(done);
  b_->SetInsertPoint(done);
  b_->CreateRetVoid();
  ks_ = std::move(savedState);
  b_->restoreIP(saved);
  useShard(0);
  GRADC_ASSERT(b_ == entryBuilder, "kernels are called from the first shard");
  return name;
}

void Emitter::callKernel(const std::string &kernel, int64_t outerExtent, int64_t elements,
                         bool parallel, bool mayFault) {
  llvm::Value *ctx = entryCtx_;
  auto *kty = llvm::FunctionType::get(b_->getVoidTy(), {ptr(), i64(), i64()}, false);
  llvm::FunctionCallee k = mod_->getOrInsertFunction(kernel, kty);
  llvm::FunctionCallee now = mod_->getOrInsertFunction("gradc_rt_now", i64());
  llvm::Value *t0 = opts_.profile ? b_->CreateCall(now) : nullptr;
  if (parallel && elements >= opts_.parallelMinElements && outerExtent > 1) {
    int64_t perIter = std::max<int64_t>(1, elements / outerExtent);
    int64_t grain = std::max<int64_t>(1, opts_.parallelMinElements / 2 / perIter);
    llvm::Value *pool = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, ctx, 3), "pool");
    llvm::FunctionCallee pf = mod_->getOrInsertFunction("gradc_rt_parallel_for", b_->getVoidTy(), ptr(), ptr(),
                                         ptr(), i64(), i64());
    b_->CreateCall(pf, {pool, k.getCallee(), ctx, c64(outerExtent), c64(grain)});
  } else {
    b_->CreateCall(k, {ctx, c64(0), c64(outerExtent)});
  }
  if (t0) {
    int id = 0;
    while (kernels_[id].name != kernel)
      ++id;
    llvm::Value *ticks = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, ctx, 5));
    llvm::Value *slot = b_->CreateGEP(i64(), ticks, c64(id));
    llvm::Value *dt = b_->CreateSub(b_->CreateCall(now), t0);
    b_->CreateStore(b_->CreateAdd(b_->CreateLoad(i64(), slot), dt), slot);
  }
  if (!mayFault)
    return;
  llvm::Value *f = b_->CreateLoad(i32(), b_->CreateStructGEP(ctxTy_, ctx, 4), "fault");
  auto *cont = llvm::BasicBlock::Create(*lctx_, "ok", entry_);
  b_->CreateCondBr(b_->CreateICmpNE(f, b_->getInt32(0)), exitBlock_, cont);
  b_->SetInsertPoint(cont);
}

void Emitter::copyInto(const ir::Value *dst, const ir::Value *src) {
  // In the entry function: the arena and leaf pointers come from its ctx.
  KernelState savedState = std::move(ks_);
  ks_ = KernelState{};
  ks_.ctx = entryCtx_;
  int64_t n = dst->type.numElements();
  const Slot &s = plan_.slot(src);
  if (s.kind == Slot::Inline) {
    llvm::Value *d = base(dst);
    llvm::Value *v = llvm::ConstantFP::get(f32(), s.value);
    loop(c64(0), c64(n), [&](llvm::Value *i) {
      b_->CreateStore(v, b_->CreateGEP(f32(), d, i));
    });
  } else {
    b_->CreateMemCpy(base(dst), llvm::MaybeAlign(4), base(src), llvm::MaybeAlign(4),
                     c64(n * MemoryPlan::elementBytes(dst->type)));
  }
  ks_ = std::move(savedState);
}

void Emitter::emitRecurrence(const ir::Op &op) {
  for (size_t i = 0; i < op.operands.size(); ++i)
    copyInto(op.result(static_cast<int>(i)), op.operand(i));
  int idx = steps_.at(op.body->args[0]).second;
  loop(c64(0), c64(op.steps), [&](llvm::Value *s) {
    llvm::Value *t = op.reverse ? b_->CreateSub(c64(op.steps - 1), s) : s;
    llvm::Value *steps = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, entryCtx_, 2));
    b_->CreateStore(t, b_->CreateGEP(i64(), steps, c64(idx)));
    emitRegion(*op.body, false, false);
  }, "step");
}

void Emitter::emitYield(const ir::Op &op) {
  const ir::Region &body = *op.parent;
  const ir::Op &rec = *body.parentOp;
  llvm::Value *t = stepValue(body.args[0]);
  // An operand that is a carried tensor of this body stands for its value
  // at the start of the step: read it before anything is written.
  for (size_t j = 0; j < op.operands.size(); ++j) {
    const ir::Value *v = op.operand(j);
    GRADC_ASSERT(!(v->owner == &body && v->index > 0),
                 "a yield of a carried tensor as it is (native code writes in place)");
  }
  for (size_t j = 0; j < op.operands.size(); ++j) {
    const ir::YieldInfo &info = op.yields[j];
    const ir::Value *src = op.operand(j);
    const ir::Value *dst = body.args[info.carried + 1];
    const std::vector<int64_t> &shape = dst->type.shape;
    if (info.whole) {
      int64_t n = dst->type.numElements();
      loop(c64(0), c64(n), [&](llvm::Value *i) {
        llvm::Value *x = loadF32(src, src->type.rank() == 0 ? c64(0) : i);
        if (info.accumulate)
          x = b_->CreateFAdd(loadF32(dst, i), x);
        storeF32(dst, i, x);
      });
      continue;
    }
    const ir::CarriedInfo &ci = rec.carried[info.carried];
    llvm::Value *pos = b_->CreateAdd(t, c64(ci.offset + info.delta));
    std::vector<int64_t> sliceShape = shape;
    sliceShape.erase(sliceShape.begin() + ci.axis);
    loopNest(sliceShape, false, [&](const Loops &idx) {
      Loops full(idx.begin(), idx.end());
      full.insert(full.begin() + ci.axis, pos);
      llvm::Value *o = linear(shape, full);
      llvm::Value *x = loadF32(src, src->type.rank() == 0 ? c64(0) : linear(sliceShape, idx));
      if (info.accumulate)
        x = b_->CreateFAdd(loadF32(dst, o), x);
      storeF32(dst, o, x);
    });
  }
}

} // namespace gradc::codegen
