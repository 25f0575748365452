// File discovery for `ingestd ingest PATH...`.
#pragma once

#include <string>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::app {

struct FoundFiles {
  std::vector<std::string> files;   // sorted, de-duplicated, as given (not canonicalised)
  std::vector<std::string> errors;  // "PATH: reason" for paths that could not be read
};

// Expands files and folders (recursively) into regular files. Hidden entries (names starting
// with '.') inside folders are skipped; symbolic links to files are followed, links to folders
// are not (no cycles). A path given explicitly is always taken.
FoundFiles FindFiles(const std::vector<std::string>& paths);

}  // namespace ingest::app
