//===- bench/update_bench.cpp - Times the fused optimizer update ------------===//
//
// gradc_update_bench OPTIMIZER CLIP THREADS ITERS SIZE[,SIZE...]
//
// Times one step of the fused update (codegen/UpdateKernel.h: the squared
// norm for clipping, then the update of every parameter) over parameters of
// the given sizes, and prints {"step_ms": median, "elements": total} as JSON.
// bench/run_bench.py times torch.optim on the same shapes beside it.
//
//===----------------------------------------------------------------------===//
#include "codegen/UpdateKernel.h"
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

using namespace gradc;

int main(int argc, char **argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s OPTIMIZER CLIP THREADS ITERS SIZE[,SIZE...]\n", argv[0]);
    return 2;
  }
  std::string error;
  auto config = runtime::OptimizerConfig::fromSpec(argv[1], {{"lr", 1e-3}}, error);
  if (!config) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  config->clipNorm = std::atof(argv[2]);
  int threads = std::atoi(argv[3]), iters = std::atoi(argv[4]);
  std::vector<int64_t> sizes;
  std::stringstream list(argv[5]);
  for (std::string item; std::getline(list, item, ',');)
    sizes.push_back(std::atoll(item.c_str()));
  codegen::UpdateKernel kernel(*config, sizes);
  runtime::ThreadPool pool(threads);
  size_t states = config->stateNames().size();
  std::vector<std::vector<float>> p, g, s0, s1;
  codegen::UpdateKernel::Buffers buf;
  int64_t total = 0;
  for (int64_t n : sizes) {
    p.emplace_back(n, 0.5f);
    g.emplace_back(n, 0.01f);
    s0.emplace_back(n, 0.0f);
    s1.emplace_back(n, 0.0f);
    total += n;
  }
  for (size_t k = 0; k < sizes.size(); ++k) {
    buf.params.push_back(p[k].data());
    buf.grads.push_back(g[k].data());
    std::vector<float *> st{s0[k].data(), s1[k].data()};
    st.resize(states);
    buf.state.push_back(st);
  }
  std::vector<double> ms;
  for (int i = 0; i < iters + 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    kernel.clippedStep(buf, i + 1, &pool);
    double t =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= 3) // warm-up steps first
      ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  // The first and last parameter elements after every step, for a check by
  // eye: with Adam and a constant gradient each step moves them by about lr.
  std::printf("{\"step_ms\": %.6f, \"elements\": %lld, \"first\": %.6f, \"last\": %.6f}\n",
              ms[ms.size() / 2], static_cast<long long>(total), p.front().front(), p.back().back());
  return 0;
}
