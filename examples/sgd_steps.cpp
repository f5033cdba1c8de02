//===- examples/sgd_steps.cpp - The C++ API: a few gradient steps ---------===//
//
// Compiles a model file with the session API (include/gradc/gradc.h), feeds
// it a fixed random batch and takes plain gradient-descent steps on its
// parameters, printing the loss as it falls:
//
//   build/sgd_steps models/mlp_skip.grad [steps] [learning rate]
//
//===----------------------------------------------------------------------===//
#include "gradc/gradc.h"

#include <cstdio>
#include <cstdlib>
#include <random>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.grad [steps] [learning rate]\n", argv[0]);
    return 2;
  }
  int steps = argc > 2 ? std::atoi(argv[2]) : 20;
  float lr = argc > 3 ? std::strtof(argv[3], nullptr) : 0.1f;
  try {
    auto model = gradc::Model::fromFile(argv[1]);
    gradc::Session session(model, /*seed=*/0);

    // One batch of inputs: f32 inputs uniform in [0, 1) (targets of a BCE
    // loss must be), int inputs 0 (a valid class or token in any model).
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (const gradc::TensorInfo &in : model->inputs()) {
      gradc::Tensor t;
      t.dtype = in.dtype;
      t.shape = in.shape;
      if (in.dtype == gradc::DType::F32)
        for (int64_t i = 0; i < t.size(); ++i)
          t.f32.push_back(u(rng));
      else
        t.i32.assign(static_cast<size_t>(t.size()), 0);
      session.setInput(in.name, t);
    }

    for (int step = 0; step < steps; ++step) {
      session.backward();
      std::printf("step %2d  loss %.6f\n", step, session.output(model->lossName()).f32.at(0));
      for (const gradc::TensorInfo &p : model->params()) {
        if (p.dtype != gradc::DType::F32)
          continue;
        gradc::Tensor w = session.param(p.name), g = session.gradient(p.name);
        for (size_t i = 0; i < w.f32.size(); ++i)
          w.f32[i] -= lr * g.f32[i];
        session.setParam(p.name, w);
      }
    }
  } catch (const gradc::Error &e) {
    std::fprintf(stderr, "%s", e.what());
    return 1;
  }
  return 0;
}
