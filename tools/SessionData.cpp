//===- tools/SessionData.cpp - Arrays from the command line into a session -===//
#include "tools/SessionData.h"

#include "api/ArrayConvert.h"
#include "tools/LeafArrays.h"

namespace gradc::tool {

std::set<std::string> setInputsFromFiles(Session &s, const Model &m, const DataOptions &d) {
  std::vector<TensorInfo> known = m.inputs();
  for (TensorInfo &n : m.noise())
    known.push_back(n);
  std::set<std::string> given;
  for (NamedArray &na : readNamedArrays(d.inputsNpz, d.ins)) {
    const TensorInfo *info = nullptr;
    for (const TensorInfo &k : known)
      if (k.name == na.name)
        info = &k;
    if (!info) {
      bool isParam = false;
      for (const TensorInfo &p : m.params())
        isParam = isParam || p.name == na.name;
      dataError(na.file + ": '" + na.name + "' is not an input or noise of model '" + m.name() +
                "'" + (isParam ? " (parameters come from --params)" : ""));
    }
    runtime::HostArray a = fittedToInput(
        na, info->dtype == DType::I32 ? runtime::ElemType::I32 : runtime::ElemType::F32,
        info->shape);
    s.setInput(na.name, api::tensorFromArray(a, *info, na.file, "input"));
    given.insert(na.name);
  }
  return given;
}

} // namespace gradc::tool
