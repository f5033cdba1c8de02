//===- codegen/Jit.cpp - Native code for a graph through ORC LLJIT --------===//
#include "codegen/Jit.h"

#include "codegen/ObjectCache.h"
#include "codegen/RuntimeSymbols.h"
#include "support/Assert.h"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

namespace gradc::codegen {

namespace {

/// LLVM failing on gradc's own module is a bug in gradc.
template <class T> T orDie(llvm::Expected<T> v, const char *what) {
  if (!v)
    throw InternalError(std::string(what) + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // Loop strength reduction takes a third of code generation on gradc's
    // loop nests and buys nothing measurable on its kernels (docs/codegen.md).
    const char *argv[] = {"gradc", "-disable-lsr"};
    llvm::cl::ParseCommandLineOptions(2, argv);
  });
}

llvm::orc::JITTargetMachineBuilder hostBuilder(int optLevel) {
  initializeLLVM();
  auto jtmb = orDie(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  jtmb.setCPU(llvm::sys::getHostCPUName().str());
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  jtmb.addFeatures(features.getFeatures());
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  jtmb.setCodeModel(llvm::CodeModel::Small);
  jtmb.setCodeGenOptLevel(optLevel == 0   ? llvm::CodeGenOptLevel::None
                          : optLevel == 3 ? llvm::CodeGenOptLevel::Aggressive
                                          : llvm::CodeGenOptLevel::Default);
  return jtmb;
}

/// The IR pipelines of -O1 and -O2: what gradc's kernels need and no more.
/// Inlining of the vector math, promotion of accumulators to registers,
/// clean-up, hoisting of loop invariants and (-O2) the loop vectorizer; the
/// loops are emitted rotated, so no loop canonicalization is needed. It
/// costs a quarter of LLVM's O2 pipeline and runs the kernels as fast
/// (docs/codegen.md). -O3 runs LLVM's own O3 pipeline.
const char *const kKernelPipeline[] = {
    "always-inline,function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop-mssa(licm),instcombine<no-verify-fixpoint>,simplifycfg)",
    "always-inline,function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop-mssa(licm),loop-vectorize,instcombine<no-verify-fixpoint>,simplifycfg)",
};

void optimize(llvm::Module &m, llvm::TargetMachine &tm, int optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = optLevel >= 2;
  pto.SLPVectorization = optLevel >= 3;
  pto.LoopUnrolling = optLevel >= 3;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  if (optLevel <= 0)
    mpm = pb.buildO0DefaultPipeline(llvm::OptimizationLevel::O0);
  else if (optLevel >= 3)
    mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  else if (auto err = pb.parsePassPipeline(mpm, kKernelPipeline[optLevel - 1]))
    throw InternalError("gradc's pass pipeline: " + llvm::toString(std::move(err)));
  mpm.run(m, mam);
}

/// The emit options with what the host's vector unit offers.
EmitOptions forHost(EmitOptions o, const llvm::orc::JITTargetMachineBuilder &jtmb) {
  bool avx512 = false;
  for (const std::string &f : jtmb.getFeatures().getFeatures())
    avx512 = avx512 || f == "+avx512f";
  o.vectorRegisters = avx512 ? 32 : 16;
  return o;
}

/// Gives a shard the host's data layout, triple, CPU and features.
void targetShard(llvm::Module &m, llvm::TargetMachine &tm) {
  m.setDataLayout(tm.createDataLayout());
  m.setTargetTriple(tm.getTargetTriple().str());
  for (llvm::Function &f : m)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", tm.getTargetCPU());
      f.addFnAttr("target-features", tm.getTargetFeatureString());
    }
}

std::string machineCode(llvm::Module &m, llvm::TargetMachine &tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  GRADC_ASSERT(!tm.addPassesToEmitFile(pm, os, nullptr, type),
               "the target cannot emit this file type");
  pm.run(m);
  return std::string(buf.begin(), buf.end());
}

/// One shard per core, but none of fewer than about 16 ops: a thread costs
/// more than a small shard saves.
int shardCount(const ir::Graph &g) {
  int64_t ops = 0;
  std::function<void(const ir::Region &)> count = [&](const ir::Region &r) {
    for (auto &op : r.ops) {
      ++ops;
      if (op->body)
        count(*op->body);
    }
  };
  count(g.top);
  int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::clamp<int64_t>(ops / 16, 1, cores));
}

/// Emits `g` in `shards` modules, each in a context of its own, and
/// optimizes and compiles each to an object file on a thread of its own.
CachedCode compileShards(const ir::Graph &g, const MemoryPlan &plan, const JitOptions &opts,
                         llvm::orc::JITTargetMachineBuilder &jtmb, int shards) {
  Emitter E(g, plan, forHost(opts.emit, jtmb), shards);
  std::vector<Shard> mods = E.emit(g.modelName);
  CachedCode out;
  out.kernels = E.kernels();
  out.objects.resize(mods.size());
  std::vector<std::string> errors(mods.size());
  auto work = [&](size_t i) {
    try {
      auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
      targetShard(*mods[i].mod, *tm);
      optimize(*mods[i].mod, *tm, opts.optLevel);
      out.objects[i] = machineCode(*mods[i].mod, *tm, llvm::CodeGenFileType::ObjectFile);
    } catch (const std::exception &e) {
      errors[i] = e.what();
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < mods.size(); ++i)
    threads.emplace_back(work, i);
  work(0);
  for (auto &t : threads)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty())
      throw InternalError(e);
  return out;
}

} // namespace

NativeCode::~NativeCode() = default;

std::unique_ptr<NativeCode> compileGraph(const ir::Graph &g, const MemoryPlan &plan,
                                         const JitOptions &opts) {
  auto jtmb = hostBuilder(opts.optLevel);
  auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
  auto code = std::unique_ptr<NativeCode>(new NativeCode);
  int shards = shardCount(g);
  std::string dir = opts.cache ? cacheDirectory(opts) : "";
  std::string stem = dir.empty() ? "" : cacheStem(dir, g, opts, *tm, shards);

  std::optional<CachedCode> compiled;
  if (!stem.empty())
    compiled = readCache(stem);
  code->fromCache = compiled.has_value();
  if (!compiled) {
    auto t0 = std::chrono::steady_clock::now();
    compiled = compileShards(g, plan, opts, jtmb, shards);
    code->llvmMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!stem.empty())
      writeCache(stem, *compiled);
  }
  code->kernels = compiled->kernels;

  // Generated code may call the runtime functions and nothing else.
  auto jit = orDie(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create(),
                   "creating the JIT");
  llvm::orc::JITDylib &lib = jit->getMainJITDylib();
  llvm::orc::SymbolMap symbols;
  for (const RuntimeSymbol &s : runtimeSymbols())
    symbols[jit->mangleAndIntern(s.name)] = {llvm::orc::ExecutorAddr::fromPtr(s.address),
                                             llvm::JITSymbolFlags::Exported};
  if (auto err = lib.define(llvm::orc::absoluteSymbols(std::move(symbols))))
    throw InternalError("defining the runtime symbols: " + llvm::toString(std::move(err)));
  for (size_t i = 0; i < compiled->objects.size(); ++i)
    if (auto err = jit->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(
            compiled->objects[i], g.modelName + "." + std::to_string(i) + ".o")))
      throw InternalError("loading compiled code: " + llvm::toString(std::move(err)));
  code->forward = orDie(jit->lookup(kForwardEntry), "finding the forward entry")
                      .toPtr<NativeCode::Entry>();
  code->backward = orDie(jit->lookup(kBackwardEntry), "finding the backward entry")
                       .toPtr<NativeCode::Entry>();
  code->jit_ = std::move(jit);
  return code;
}

JitModule::~JitModule() = default;

void *JitModule::lookup(const std::string &name) const {
  return orDie(jit_->lookup(name), "finding a generated function").toPtr<void *>();
}

std::unique_ptr<JitModule> compileModule(std::unique_ptr<llvm::LLVMContext> ctx,
                                         std::unique_ptr<llvm::Module> m, int optLevel) {
  auto jtmb = hostBuilder(optLevel);
  auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
  targetShard(*m, *tm);
  optimize(*m, *tm, optLevel);
  auto out = std::unique_ptr<JitModule>(new JitModule);
  out->jit_ = orDie(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create(),
                    "creating the JIT");
  if (auto err = out->jit_->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx))))
    throw InternalError("loading generated code: " + llvm::toString(std::move(err)));
  return out;
}

std::string emitText(const ir::Graph &g, const MemoryPlan &plan, const JitOptions &opts,
                     bool asm_) {
  auto jtmb = hostBuilder(opts.optLevel);
  auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
  Emitter E(g, plan, forHost(opts.emit, jtmb), 1); // one module, to read in one piece
  std::vector<Shard> mods = E.emit(g.modelName);
  llvm::Module &m = *mods[0].mod;
  targetShard(m, *tm);
  optimize(m, *tm, opts.optLevel);
  if (asm_)
    return machineCode(m, *tm, llvm::CodeGenFileType::AssemblyFile);
  std::string text;
  llvm::raw_string_ostream os(text);
  m.print(os, nullptr);
  return os.str();
}

} // namespace gradc::codegen
