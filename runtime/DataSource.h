//===- runtime/DataSource.h - Training data named after a model's inputs ---===//
//
// What `gradc train --data SOURCE` (and `--val`) reads, before it is fitted
// to a model (DESIGN.md, `gradc train`). A SOURCE is either
//
//   FILE.npz                    arrays named after the model's inputs, or
//   NAME=FILE[,NAME=FILE...]    one file per input, where FILE is
//       an .npy file,
//       an IDX file of the MNIST family, gzip'd or not (recognised by its
//         contents, not its name); its uint8 elements, fed to an f32 input,
//         become values in [0, 1],
//       text:FILE               the file's bytes as tokens 0..255, cut into
//                               windows of the input's length when fitted;
//       text+K:FILE             the same windows shifted K bytes later (a
//                               language model's next tokens: tok=text:F,
//                               next=text+1:F).
//
// Every array but a text's holds one example per entry of its first axis.
// Errors name the source, the input and the file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/HostArray.h"

#include <optional>
#include <string>
#include <vector>

namespace gradc::runtime {

/// One input's data.
struct DataColumn {
  std::string name;       ///< the input it feeds
  std::string file;       ///< where it came from, for messages
  HostArray array;        ///< [N, ...], or the text's bytes (u8 [L])
  bool fromIdx = false;   ///< uint8 IDX data: scaled to [0, 1] for an f32 input
  bool text = false;      ///< bytes to cut into windows
  int64_t textOffset = 0; ///< text+K: the windows start K bytes later
};

struct DataSource {
  std::string spec; ///< the SOURCE as given
  std::vector<DataColumn> columns;
  /// The column named `name`, or null.
  const DataColumn *find(const std::string &name) const;
};

/// Reads every file SOURCE names. Errors: an unreadable or damaged file, a
/// malformed list, a name given twice, a text offset that is not a
/// non-negative integer.
std::optional<DataSource> loadDataSource(const std::string &spec, std::string &error);

} // namespace gradc::runtime
