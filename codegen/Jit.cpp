//===- codegen/Jit.cpp - Native code for a graph through ORC LLJIT --------===//
#include "codegen/Jit.h"

#include "codegen/RuntimeSymbols.h"
#include "ir/Printer.h"
#include "runtime/AtomicFile.h"
#include "support/Assert.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/Timer.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace gradc::codegen {

namespace {

/// Raised into an InternalError: LLVM failing on our own module is a bug.
template <class T> T orDie(llvm::Expected<T> v, const char *what) {
  if (!v) {
    std::string msg = llvm::toString(v.takeError());
    throw InternalError(std::string(what) + ": " + msg);
  }
  return std::move(*v);
}

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    if (const char *a = std::getenv("GRADC_LLVM_ARGS")) {
      static std::vector<std::string> args{"gradc"};
      std::istringstream ss(a);
      for (std::string w; ss >> w;)
        args.push_back(w);
      static std::vector<const char *> argv;
      for (auto &x : args)
        argv.push_back(x.c_str());
      llvm::cl::ParseCommandLineOptions(static_cast<int>(argv.size()), argv.data());
    }
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
  jtmb.setCodeGenOptLevel(optLevel == 0 ? llvm::CodeGenOptLevel::None
                                        : llvm::CodeGenOptLevel::Aggressive);
  if (const char *cg = std::getenv("GRADC_CG"))
    jtmb.setCodeGenOptLevel(static_cast<llvm::CodeGenOptLevel>(atoi(cg)));
  return jtmb;
}

void optimize(llvm::Module &m, llvm::TargetMachine &tm, int optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = optLevel >= 2;
  pto.SLPVectorization = optLevel >= 2;
  pto.LoopUnrolling = optLevel >= 2;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel <= 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  if (const char *p = std::getenv("GRADC_PIPELINE")) {
    mpm = llvm::ModulePassManager();
    if (auto err = pb.parsePassPipeline(mpm, p))
      throw InternalError(llvm::toString(std::move(err)));
  }
  mpm.run(m, mam);
}

/// The module for `g`, optimized for the host.
std::unique_ptr<llvm::Module> buildModule(llvm::LLVMContext &ctx, const ir::Graph &g,
                                          const MemoryPlan &plan, const JitOptions &opts,
                                          llvm::TargetMachine &tm,
                                          std::vector<KernelInfo> *kernels) {
  auto T0 = std::chrono::steady_clock::now();
  Emitter E(ctx, g, plan, opts.emit);
  std::unique_ptr<llvm::Module> m = E.emit(g.modelName);
  auto T1 = std::chrono::steady_clock::now();
  m->setDataLayout(tm.createDataLayout());
  m->setTargetTriple(tm.getTargetTriple().str());
  for (llvm::Function &f : *m)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", tm.getTargetCPU());
      f.addFnAttr("target-features", tm.getTargetFeatureString());
    }
  optimize(*m, tm, opts.optLevel);
  auto T2 = std::chrono::steady_clock::now();
  if (std::getenv("GRADC_TIME"))
    fprintf(stderr, "emit %.1f ms opt %.1f ms\n", std::chrono::duration<double, std::milli>(T1 - T0).count(), std::chrono::duration<double, std::milli>(T2 - T1).count());
  if (kernels)
    *kernels = E.kernels();
  return m;
}

std::string machineCode(llvm::Module &m, llvm::TargetMachine &tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  GRADC_ASSERT(!tm.addPassesToEmitFile(pm, os, nullptr, type),
               "the target cannot emit this file type");
  auto T0 = std::chrono::steady_clock::now();
  pm.run(m);
  if (std::getenv("GRADC_TIME"))
    fprintf(stderr, "codegen %.1f ms\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T0).count()), llvm::TimerGroup::printAll(llvm::errs());
  return std::string(buf.begin(), buf.end());
}

/// What the cached object depends on: the graph with its source locations
/// (kernel names and fault messages carry them), the options, LLVM and the
/// CPU.
std::string cacheKey(const ir::Graph &g, const JitOptions &opts, llvm::TargetMachine &tm) {
  std::ostringstream key;
  key << "gradc-native-4\n" << LLVM_VERSION_STRING << "\n"
      << tm.getTargetCPU().str() << "\n"
      << tm.getTargetFeatureString().str() << "\n"
      << "O" << opts.optLevel << " gemm " << opts.emit.gemmMinFlops << " par "
      << opts.emit.parallelMinElements << "\n"
      << ir::printGraph(g, nullptr);
  std::function<void(const ir::Region &)> locs = [&](const ir::Region &r) {
    for (auto &op : r.ops) {
      key << op->loc.file << ":" << op->loc.line << ":" << op->loc.col << " ";
      if (op->body)
        locs(*op->body);
    }
  };
  locs(g.top);
  std::string text = key.str();
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(text));
  std::string hex;
  for (uint8_t byte : digest) {
    static const char *d = "0123456789abcdef";
    hex += d[byte >> 4];
    hex += d[byte & 15];
  }
  return hex;
}

nlohmann::json kernelsJson(const std::vector<KernelInfo> &kernels) {
  nlohmann::json j = nlohmann::json::array();
  for (const KernelInfo &k : kernels)
    j.push_back({{"name", k.name},
                 {"file", k.loc.file},
                 {"line", k.loc.line},
                 {"col", k.loc.col},
                 {"what", k.what}});
  return j;
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return static_cast<bool>(f) || f.eof();
}

/// Writes `bytes` to `path` atomically; a cache that cannot be written is
/// no error (the next compile just runs LLVM again).
void writeQuietly(const std::string &path, const std::string &bytes) {
  runtime::AtomicFile f(path);
  std::string err;
  if (f.open(err) && f.write(bytes, err))
    f.commit(err);
}

} // namespace

std::string cacheDirectory(const JitOptions &opts) {
  if (!opts.cacheDir.empty())
    return opts.cacheDir;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/gradc";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/gradc";
  return "";
}

NativeCode::~NativeCode() = default;

std::unique_ptr<NativeCode> compileGraph(const ir::Graph &g, const MemoryPlan &plan,
                                         const JitOptions &opts) {
  auto jtmb = hostBuilder(opts.optLevel);
  auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
  auto code = std::unique_ptr<NativeCode>(new NativeCode);

  std::string dir = opts.cache ? cacheDirectory(opts) : "";
  std::string stem = dir.empty() ? "" : dir + "/" + cacheKey(g, opts, *tm);
  std::string object, meta;
  if (!stem.empty() && readFile(stem + ".o", object) && readFile(stem + ".json", meta)) {
    nlohmann::json j = nlohmann::json::parse(meta, nullptr, false);
    if (j.is_array()) {
      for (auto &k : j)
        code->kernels.push_back({k.value("name", ""),
                                 SourceLoc{k.value("file", 0u), k.value("line", 0u),
                                           k.value("col", 0u)},
                                 k.value("what", "")});
      code->fromCache = true;
    }
  }
  if (!code->fromCache) {
    auto t0 = std::chrono::steady_clock::now();
    llvm::LLVMContext ctx;
    std::unique_ptr<llvm::Module> m = buildModule(ctx, g, plan, opts, *tm, &code->kernels);
    object = machineCode(*m, *tm, llvm::CodeGenFileType::ObjectFile);
    code->llvmMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!stem.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (!ec) {
        writeQuietly(stem + ".json", kernelsJson(code->kernels).dump());
        writeQuietly(stem + ".o", object);
      }
    }
  }

  auto jit = orDie(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create(),
                   "creating the JIT");
  llvm::orc::JITDylib &lib = jit->getMainJITDylib();
  llvm::orc::SymbolMap symbols;
  for (const RuntimeSymbol &s : runtimeSymbols())
    symbols[jit->mangleAndIntern(s.name)] = {llvm::orc::ExecutorAddr::fromPtr(s.address),
                                             llvm::JITSymbolFlags::Exported};
  if (auto err = lib.define(llvm::orc::absoluteSymbols(std::move(symbols))))
    throw InternalError("defining the runtime symbols: " + llvm::toString(std::move(err)));
  if (auto err = jit->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(object, g.modelName + ".o")))
    throw InternalError("loading the compiled object: " + llvm::toString(std::move(err)));
  code->forward = orDie(jit->lookup(kForwardEntry), "finding the forward entry")
                      .toPtr<NativeCode::Entry>();
  code->backward = orDie(jit->lookup(kBackwardEntry), "finding the backward entry")
                       .toPtr<NativeCode::Entry>();
  code->jit_ = std::move(jit);
  return code;
}

std::string emitText(const ir::Graph &g, const MemoryPlan &plan, const JitOptions &opts,
                     bool asm_) {
  auto jtmb = hostBuilder(opts.optLevel);
  auto tm = orDie(jtmb.createTargetMachine(), "creating the target machine");
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = buildModule(ctx, g, plan, opts, *tm, nullptr);
  if (asm_)
    return machineCode(*m, *tm, llvm::CodeGenFileType::AssemblyFile);
  std::string text;
  llvm::raw_string_ostream os(text);
  m->print(os, nullptr);
  return os.str();
}

} // namespace gradc::codegen
