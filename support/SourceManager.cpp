//===- support/SourceManager.cpp - Source files and locations -------------===//
#include "support/SourceManager.h"

#include "support/Assert.h"

namespace gradc {

uint32_t SourceManager::addFile(std::string path, std::string contents) {
  File f;
  f.path = std::move(path);
  f.text = std::move(contents);
  f.lineStarts.push_back(0);
  for (size_t i = 0; i < f.text.size(); ++i)
    if (f.text[i] == '\n')
      f.lineStarts.push_back(i + 1);
  files_.push_back(std::move(f));
  return static_cast<uint32_t>(files_.size());
}

const std::string &SourceManager::path(uint32_t file) const {
  GRADC_ASSERT(file >= 1 && file <= files_.size(), "bad file id");
  return files_[file - 1].path;
}

const std::string &SourceManager::text(uint32_t file) const {
  GRADC_ASSERT(file >= 1 && file <= files_.size(), "bad file id");
  return files_[file - 1].text;
}

std::string_view SourceManager::lineText(uint32_t file, uint32_t line) const {
  if (file < 1 || file > files_.size())
    return {};
  const File &f = files_[file - 1];
  if (line < 1 || line > f.lineStarts.size())
    return {};
  size_t begin = f.lineStarts[line - 1];
  size_t end = line < f.lineStarts.size() ? f.lineStarts[line] - 1 : f.text.size();
  std::string_view sv(f.text);
  sv = sv.substr(begin, end - begin);
  if (!sv.empty() && sv.back() == '\r')
    sv.remove_suffix(1);
  return sv;
}

std::string SourceManager::describe(SourceLoc loc) const {
  if (!loc.valid() || loc.file < 1 || loc.file > files_.size())
    return "<unknown>";
  return files_[loc.file - 1].path + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.col);
}

uint32_t SourceManager::find(std::string_view p) const {
  for (size_t i = 0; i < files_.size(); ++i)
    if (files_[i].path == p)
      return static_cast<uint32_t>(i + 1);
  return 0;
}

} // namespace gradc
