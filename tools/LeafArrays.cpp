//===- tools/LeafArrays.cpp - Arrays from files into a graph's leaves -----===//
//
// The .npy/.npz conventions of DESIGN.md: arrays named after the inputs and
// parameters, C order, shaped as declared; float64 and int64 converted when
// their values fit; every error names the file it came from. `--in` also
// reads IDX files and texts, fitted to the input as `gradc train` fits its
// data (runtime/Examples.h).
//
//===----------------------------------------------------------------------===//
#include "tools/LeafArrays.h"

#include "frontend/Sema.h"
#include "runtime/DataSource.h"
#include "runtime/Examples.h"
#include "runtime/NpyIO.h"
#include "runtime/SafetensorsIO.h"
#include "support/Diagnostics.h"

#include <iostream>

namespace gradc::tool {

using runtime::DTensor;
using runtime::ElemType;
using runtime::HostArray;

std::vector<NamedArray> readNamedArrays(const std::string &inputsNpz,
                                        const std::vector<std::string> &ins) {
  std::vector<NamedArray> out;
  std::string err;
  if (!inputsNpz.empty()) {
    auto arrays = runtime::readNpz(inputsNpz, err);
    if (!arrays)
      dataError(err);
    for (auto &p : *arrays)
      out.push_back({p.first, inputsNpz, std::move(p.second)});
  }
  for (const std::string &spec : ins) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw sema::UsageError("--in " + spec + ": expected NAME=FILE (.npy, IDX or text:FILE)");
    std::string name = spec.substr(0, eq), file = spec.substr(eq + 1);
    for (auto &prev : out)
      if (prev.name == name)
        throw sema::UsageError("--in " + spec + ": '" + name + "' is given twice (also in " +
                               prev.file + ")");
    if (spec.find(',') != std::string::npos)
      throw sema::UsageError("--in " + spec + ": one NAME=FILE per --in (give --in again for "
                             "another input)");
    std::optional<runtime::DataSource> ds = runtime::loadDataSource(spec, err);
    if (!ds)
      dataError(err);
    out.push_back(std::move(ds->columns.at(0)));
  }
  return out;
}

/// A user-facing error about a data file: "FILE: error: MESSAGE", exit 1.
void dataError(const std::string &what) {
  std::cerr << "gradc: error: " << what << "\n";
  throw UserError();
}

/// Converts an array from a file into the leaf's type, or explains why not.
DTensor toLeafValue(const HostArray &a, const ir::Op &leaf, const std::string &source) {
  const ir::TensorType &ty = leaf.result()->type;
  if (a.shape != ty.shape) {
    std::string want = ty.str();
    dataError(source + ": '" + leaf.name + "' must have shape " +
              want.substr(want.find('[')) + ", but the array is " + a.typeStr() +
              " (-D changes a model's sizes)");
  }
  bool wantInt = ty.dtype == ir::DType::I32;
  std::string why;
  HostArray conv;
  if (wantInt) {
    if (runtime::isFloat(a.type))
      dataError(source + ": '" + leaf.name + "' is an int input, but the array holds " +
                runtime::elemTypeName(a.type) + " values");
    conv = runtime::convertTo(a, ElemType::I32, why);
  } else {
    if (!runtime::isFloat(a.type))
      dataError(source + ": '" + leaf.name + "' is f32, but the array holds " +
                runtime::elemTypeName(a.type) + " values");
    conv = runtime::convertTo(a, ElemType::F32, why);
  }
  if (!why.empty())
    dataError(source + ": '" + leaf.name + "': " + why);
  DTensor t = DTensor::zeros(ty);
  for (int64_t i = 0; i < conv.numElements(); ++i)
    t.data[i] = wantInt ? static_cast<double>(conv.i32()[i]) : static_cast<double>(conv.f32()[i]);
  return t;
}

HostArray fittedToInput(NamedArray &na, ElemType type, const std::vector<int64_t> &shape) {
  if (!na.fromIdx && !na.text)
    return std::move(na.array);
  if (shape.empty())
    dataError(na.file + ": '" + na.name + "' is a scalar input: it takes no examples");
  runtime::DataSource ds;
  ds.spec = na.name + "=" + na.file;
  ds.columns.push_back({na.name, na.file, std::move(na.array), na.fromIdx, na.text, na.textOffset});
  runtime::InputSlot slot{na.name, type, std::vector<int64_t>(shape.begin() + 1, shape.end())};
  std::string err;
  std::optional<runtime::Examples> ex = runtime::fitExamples(ds, {slot}, err);
  if (!ex)
    dataError(err);
  if (ex->count != shape[0])
    dataError(na.file + ": " + std::to_string(ex->count) + " examples for '" + na.name +
              "', whose batch axis holds " + std::to_string(shape[0]) +
              " (-D sets the model's batch size to the number of examples)");
  HostArray a = std::move(ex->arrays[0]);
  a.shape = shape;
  return a;
}

HostArray toHost(const DTensor &t) {
  bool isInt = t.type.dtype == ir::DType::I32;
  HostArray a = HostArray::zeros(isInt ? ElemType::I32 : ElemType::F32, t.type.shape);
  for (size_t i = 0; i < t.data.size(); ++i) {
    if (isInt)
      a.i32()[i] = static_cast<int32_t>(t.data[i]);
    else
      a.f32()[i] = static_cast<float>(t.data[i]);
  }
  return a;
}


void loadUserArrays(runtime::Engine &in, const ir::Graph &g, const std::string &params,
                    const std::string &inputsNpz, const std::vector<std::string> &ins) {
  if (!params.empty()) {
    std::string err;
    auto arrays = runtime::readParameterFile(params, err);
    if (!arrays)
      dataError(err);
    for (auto &[name, arr] : *arrays) {
      const ir::Op *leaf = in.findLeaf(name);
      if (!leaf || (leaf->kind != ir::OpKind::Param && leaf->kind != ir::OpKind::State))
        dataError(params + ": '" + name + "' is not a parameter or state of model '" +
                  g.modelName + "'");
      in.set(name, toLeafValue(arr, *leaf, params));
    }
  }
  for (NamedArray &ni : readNamedArrays(inputsNpz, ins)) {
    const ir::Op *leaf = in.findLeaf(ni.name);
    if (!leaf || leaf->kind == ir::OpKind::Param || leaf->kind == ir::OpKind::State)
      dataError(ni.file + ": '" + ni.name + "' is not an input or noise of model '" + g.modelName +
                "'" + (leaf ? " (parameters come from --params)" : ""));
    const ir::TensorType &ty = leaf->result()->type;
    HostArray a = fittedToInput(ni, ty.dtype == ir::DType::I32 ? ElemType::I32 : ElemType::F32,
                                ty.shape);
    in.set(ni.name, toLeafValue(a, *leaf, ni.file));
  }
}

} // namespace gradc::tool
