//===- codegen/EmitLoops.cpp - Loop nests, storage and index maps ---------===//
//
// Index maps become address arithmetic. An affine position that static
// range analysis proves inside its axis costs nothing more; one that may
// leave it (padding, t-1 at the first step) is tested, and the load is made
// at a clamped address and replaced by 0, so that no read leaves the
// tensor's storage and the loop stays free of branches (the vectorizer
// turns the select into a blend). An indirect position read from an int
// tensor is tested the same way; out of range, it sets the kernel's fault
// flag, reads element 0 instead, and the run stops after the kernel.
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "support/Assert.h"

#include <llvm/IR/MDBuilder.h>

#include <map>

namespace gradc::codegen {

using ir::DType;

void Emitter::loop(llvm::Value *lo, llvm::Value *hi,
                   const std::function<void(llvm::Value *)> &body, const std::string &name) {
  // Emitted rotated (a guard, then a do-while whose latch tests the next
  // index), the form the loop vectorizer works on, so that the optimization
  // pipeline needs no loop-rotation pass.
  llvm::Function *fn = b_->GetInsertBlock()->getParent();
  auto *bodyBB = llvm::BasicBlock::Create(*lctx_, name + ".body", fn);
  auto *exit = llvm::BasicBlock::Create(*lctx_, name + ".exit", fn);
  auto *cl = llvm::dyn_cast<llvm::ConstantInt>(lo), *ch = llvm::dyn_cast<llvm::ConstantInt>(hi);
  if (cl && ch && cl->getSExtValue() < ch->getSExtValue())
    b_->CreateBr(bodyBB); // runs at least once
  else
    b_->CreateCondBr(b_->CreateICmpSLT(lo, hi), bodyBB, exit);
  llvm::BasicBlock *pre = b_->GetInsertBlock();
  b_->SetInsertPoint(bodyBB);
  llvm::PHINode *i = b_->CreatePHI(i64(), 2, name);
  i->addIncoming(lo, pre);
  body(i);
  llvm::Value *next = b_->CreateAdd(i, c64(1), name + ".next", /*NUW=*/true, /*NSW=*/true);
  i->addIncoming(next, b_->GetInsertBlock());
  b_->CreateCondBr(b_->CreateICmpSLT(next, hi), bodyBB, exit);
  b_->SetInsertPoint(exit);
}

void Emitter::loopNest(const std::vector<int64_t> &extents, bool split,
                       const std::function<void(const Loops &)> &body) {
  Loops idx;
  std::function<void(size_t)> level = [&](size_t d) {
    if (d == extents.size()) {
      body(idx);
      return;
    }
    llvm::Value *lo = c64(0), *hi = c64(extents[d]);
    if (d == 0 && split) {
      lo = ks_.begin;
      hi = ks_.end;
    }
    loop(lo, hi, [&](llvm::Value *i) {
      idx.push_back(i);
      level(d + 1);
      idx.pop_back();
    }, "d" + std::to_string(d));
  };
  level(0);
}

llvm::Value *Emitter::linear(const std::vector<int64_t> &shape, const Loops &idx) {
  GRADC_ASSERT(shape.size() == idx.size(), "linear index rank");
  llvm::Value *o = c64(0);
  int64_t stride = 1;
  for (size_t a = shape.size(); a-- > 0;) {
    o = b_->CreateAdd(o, b_->CreateMul(idx[a], c64(stride), "", true, true), "", true, true);
    stride *= shape[a];
  }
  return o;
}

llvm::Value *Emitter::base(const ir::Value *v) {
  auto it = ks_.bases.find(v);
  if (it != ks_.bases.end())
    return it->second;
  const Slot &s = plan_.slot(v);
  GRADC_ASSERT(s.kind != Slot::Inline, "an inline constant has no storage");
  // Loaded at the top of the function, where it dominates every use.
  auto saved = b_->saveIP();
  llvm::BasicBlock &entry = b_->GetInsertBlock()->getParent()->getEntryBlock();
  b_->SetInsertPoint(&entry, entry.getFirstInsertionPt());
  llvm::Value *p;
  if (s.kind == Slot::Arena) {
    llvm::Value *arena = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, ks_.ctx, 0), "arena");
    p = b_->CreateGEP(b_->getInt8Ty(), arena, c64(s.offset), v->name);
  } else {
    llvm::Value *leaves = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, ks_.ctx, 1), "leaves");
    p = b_->CreateLoad(ptr(), b_->CreateGEP(ptr(), leaves, c64(s.leaf)), v->name);
  }
  b_->restoreIP(saved);
  ks_.bases[v] = p;
  return p;
}

llvm::Value *Emitter::stepValue(const ir::Value *step) {
  auto it = steps_.find(step);
  GRADC_ASSERT(it != steps_.end(), "%" + step->name + " is not a step variable");
  auto cached = ks_.bases.find(step);
  if (cached != ks_.bases.end())
    return cached->second;
  // Loaded once at the top of the kernel: a store into a tensor in the
  // loops could otherwise be taken to change it.
  auto saved = b_->saveIP();
  llvm::BasicBlock &entry = b_->GetInsertBlock()->getParent()->getEntryBlock();
  b_->SetInsertPoint(&entry, entry.getFirstInsertionPt());
  llvm::Value *steps = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, ks_.ctx, 2));
  llvm::Value *t =
      b_->CreateLoad(i64(), b_->CreateGEP(i64(), steps, c64(it->second.second)), step->name);
  b_->restoreIP(saved);
  ks_.bases[step] = t;
  return t;
}

llvm::Instruction *Emitter::tagged(llvm::Instruction *access, const ir::Value *v) {
  const Slot &s = plan_.slot(v);
  ks_.accesses.push_back({access, s.kind == Slot::Arena ? s.offset : -1 - s.leaf});
  return access;
}

void Emitter::markDisjointTensors() {
  // One alias scope per storage slot the kernel touches: an access is in its
  // slot's scope and aliases none of the others. Different slots never
  // overlap (MemoryPlan), so LLVM may vectorize without run-time overlap
  // checks between, say, a remap's source and its result in the one arena.
  std::map<int64_t, llvm::MDNode *> scopes;
  llvm::MDBuilder md(*lctx_);
  llvm::MDNode *domain = nullptr;
  for (auto &[inst, slot] : ks_.accesses)
    if (!scopes.count(slot)) {
      if (!domain)
        domain = md.createAnonymousAliasScopeDomain(ks_.fn->getName());
      scopes[slot] = md.createAnonymousAliasScope(domain);
    }
  if (scopes.size() < 2)
    return;
  for (auto &[inst, slot] : ks_.accesses) {
    std::vector<llvm::Metadata *> others;
    for (auto &[other, scope] : scopes)
      if (other != slot)
        others.push_back(scope);
    inst->setMetadata(llvm::LLVMContext::MD_alias_scope, llvm::MDNode::get(*lctx_, {scopes[slot]}));
    inst->setMetadata(llvm::LLVMContext::MD_noalias, llvm::MDNode::get(*lctx_, others));
  }
}

llvm::Value *Emitter::loadF32(const ir::Value *v, llvm::Value *offset) {
  const Slot &s = plan_.slot(v);
  if (s.kind == Slot::Inline)
    return llvm::ConstantFP::get(f32(), s.value);
  if (v->type.dtype == DType::I32) {
    llvm::Value *x = tagged(b_->CreateLoad(i32(), b_->CreateGEP(i32(), base(v), offset)), v);
    return b_->CreateSIToFP(x, f32());
  }
  return tagged(b_->CreateLoad(f32(), b_->CreateGEP(f32(), base(v), offset)), v);
}

llvm::Value *Emitter::loadIndex(const ir::Value *v, llvm::Value *offset) {
  const Slot &s = plan_.slot(v);
  if (s.kind == Slot::Inline)
    return c64(static_cast<int64_t>(s.value));
  GRADC_ASSERT(v->type.dtype == DType::I32, "an index read from a non-int tensor");
  return b_->CreateSExt(tagged(b_->CreateLoad(i32(), b_->CreateGEP(i32(), base(v), offset)), v),
                        i64());
}

void Emitter::storeF32(const ir::Value *v, llvm::Value *offset, llvm::Value *x) {
  if (v->type.dtype == DType::I32) {
    tagged(b_->CreateStore(b_->CreateFPToSI(x, i32()), b_->CreateGEP(i32(), base(v), offset)), v);
    return;
  }
  tagged(b_->CreateStore(x, b_->CreateGEP(f32(), base(v), offset)), v);
}

std::pair<int64_t, int64_t> Emitter::range(const ir::Op &op, const ir::Affine &a,
                                           const std::vector<int64_t> &loopExtents) const {
  int64_t lo = a.constant, hi = a.constant;
  for (auto &[v, c] : a.terms) {
    int64_t extent;
    if (v >= 0) {
      extent = loopExtents.at(v);
    } else {
      const ir::Value *sym = op.symbols.at(-v - 1);
      extent = steps_.at(sym).first->steps;
    }
    int64_t span = c * (extent - 1);
    lo += std::min<int64_t>(0, span);
    hi += std::max<int64_t>(0, span);
  }
  return {lo, hi};
}

/// An affine position as i64 code.
static llvm::Value *affineValue(Emitter &E, const ir::Op &op, const ir::Affine &a,
                                const Emitter::Loops &loops) {
  llvm::IRBuilder<> &b = E.b();
  llvm::Value *r = E.c64(a.constant);
  for (auto &[v, c] : a.terms) {
    llvm::Value *x = v >= 0 ? loops.at(v) : E.stepValue(op.symbols.at(-v - 1));
    r = b.CreateAdd(r, c == 1 ? x : b.CreateMul(x, E.c64(c)));
  }
  return r;
}

Emitter::Access Emitter::access(const ir::Op &op, const ir::IndexMap &map,
                                const std::vector<int64_t> &shape, const Loops &loops,
                                const std::vector<int64_t> &loopExtents) {
  GRADC_ASSERT(map.size() == shape.size(), "index map rank differs from its tensor's");
  Access r;
  r.at.assign(map.size(), nullptr);
  llvm::Value *offset = c64(0);
  llvm::Value *inside = nullptr; // affine axes in bounds
  auto andAlso = [&](llvm::Value *&acc, llvm::Value *c) { acc = acc ? b_->CreateAnd(acc, c) : c; };
  int64_t stride = 1;
  std::vector<int64_t> strides(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    strides[a] = stride;
    stride *= shape[a];
  }
  // Affine axes first: out of bounds is padding, whatever an indirect axis
  // holds (the interpreter's rule).
  for (size_t a = 0; a < map.size(); ++a) {
    if (map[a].isIndirect())
      continue;
    llvm::Value *p = affineValue(*this, op, map[a].pos, loops);
    auto [lo, hi] = range(op, map[a].pos, loopExtents);
    if ((lo < 0 || hi >= shape[a]) && !trusted(map, a)) {
      // One unsigned comparison tests both ends.
      llvm::Value *ok = b_->CreateICmpULT(p, c64(shape[a]));
      andAlso(inside, ok);
      p = b_->CreateSelect(ok, p, c64(0));
    }
    r.at[a] = p;
    offset = b_->CreateAdd(offset, b_->CreateMul(p, c64(strides[a])));
  }
  for (size_t a = 0; a < map.size(); ++a) {
    if (!map[a].isIndirect())
      continue;
    const ir::Value *index = op.operand(map[a].indirect);
    // The int tensor is read by the affine rule: out of bounds, it holds 0.
    ir::IndexMap at;
    for (const ir::Affine &x : map[a].indirectAt)
      at.push_back({x, -1, {}});
    Access where = access(op, at, index->type.shape, loops, loopExtents);
    llvm::Value *v =
        plan_.isInlined(index) ? argmaxAt(*index->def, where.at) : loadIndex(index, where.offset);
    if (where.inBounds)
      v = b_->CreateSelect(where.inBounds, v, c64(0));
    llvm::Value *p = b_->CreateAdd(v, affineValue(*this, op, map[a].pos, loops));
    llvm::Value *ok = b_->CreateICmpULT(p, c64(shape[a]));
    // Out of range where the element is not padding anyway: a fault.
    llvm::Value *bad = b_->CreateNot(ok);
    if (inside)
      bad = b_->CreateAnd(bad, inside);
    b_->CreateStore(b_->CreateOr(b_->CreateLoad(b_->getInt1Ty(), ks_.fault), bad), ks_.fault);
    p = b_->CreateSelect(ok, p, c64(0));
    r.at[a] = p;
    offset = b_->CreateAdd(offset, b_->CreateMul(p, c64(strides[a])));
    KernelInfo &k = kernels_[ks_.id];
    if (k.index.empty()) {
      k.index = index->name;
      k.offset = map[a].pos.constant;
      k.bound = shape[a];
      k.what = op.kind == ir::OpKind::ScatterAdd ? "scattering into '" + op.result()->name + "'"
                                                 : "reading '" + op.operand(0)->name + "'";
    }
  }
  r.offset = offset;
  r.inBounds = inside;
  return r;
}

llvm::Value *Emitter::readThrough(const ir::Op &op, int k, const ir::IndexMap &map,
                                  const Loops &loops, const std::vector<int64_t> &loopExtents) {
  const ir::Value *src = op.operand(k);
  bool inlined = plan_.isInlined(src); // computed here (codegen/Inlined.h)
  if (!inlined && plan_.slot(src).kind == Slot::Inline)
    return loadF32(src, nullptr);
  Access a = access(op, map, src->type.shape, loops, loopExtents);
  llvm::Value *x = inlined ? elementAt(src, a.at, a.offset) : loadF32(src, a.offset);
  if (a.inBounds)
    x = b_->CreateSelect(a.inBounds, x, llvm::ConstantFP::get(f32(), 0.0));
  return x;
}

} // namespace gradc::codegen
