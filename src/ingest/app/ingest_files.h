// File discovery for `ingestd ingest PATH...`.
#pragma once

#include <string>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::app {

struct FindOptions {
  // Globs (fnmatch) a file found in a folder must match (any of `include`, when not empty) and
  // must not match (every `exclude`), tested against its path, its path relative to the folder
  // given and its base name. Paths named
  // explicitly are always taken.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

struct SkippedFile {
  std::string path;
  std::string reason;  // "unsupported type: content is binary (...)", "excluded by --exclude GLOB"
};

struct FoundFiles {
  std::vector<std::string> files;    // sorted, de-duplicated, as given (not canonicalised)
  std::vector<std::string> errors;   // "PATH: reason" for paths that could not be read
  std::vector<SkippedFile> skipped;  // found in a folder and left out, with why
};

// Expands files and folders (recursively) into regular files. Hidden entries (names starting
// with '.') inside folders are skipped silently; symbolic links to files are followed, links to
// folders are not (no cycles). A path given explicitly is always taken (an unsupported file named
// explicitly is submitted and fails with its reason). A file found in a folder is skipped and
// listed when a glob leaves it out or when it is not a document ingestd reads: its content is
// not recognised (parse/detect.h) and its extension does not claim a supported type either
// (a damaged report.pdf is still submitted, so its failure is reported; a changelog.gz is not).
FoundFiles FindFiles(const std::vector<std::string>& paths, const FindOptions& options = {});

// Why a file found in a folder is not a document ingestd reads, or "" when it may be one.
std::string UnsupportedReason(const std::string& path);

}  // namespace ingest::app
