// `ingestd tokenize`: token counts or ids of files (or standard input) with an OpenAI encoding.
// Handy for checking the chunker's budgets and for comparing with other tokenizers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "ingest/app/cli.h"
#include "ingest/text/tokenizer.h"

namespace ingest::app {
namespace {

struct TokenizeOptions {
  std::string encoding = "cl100k_base";
  bool count = false;
  bool ids = false;
  std::vector<std::string> files;
};

// Reads a whole file (or standard input for "-") in large blocks; istreambuf_iterator would
// cost more than tokenizing.
bool ReadInput(const std::string& file, std::string* out) {
  std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, got);
  bool ok = !std::ferror(f);
  if (f != stdin) std::fclose(f);
  return ok;
}

int RunTokenize(const TokenizeOptions& opts) {
  if (opts.count && opts.ids) {
    std::cerr << "ingestd tokenize: --count and --ids are mutually exclusive\n";
    return 2;
  }
  Result<text::Encoding> encoding = text::ParseEncoding(opts.encoding);
  if (!encoding.ok()) {
    std::cerr << "ingestd tokenize: " << encoding.status().message() << "\n";
    return 2;
  }
  Result<const text::Tokenizer*> tokenizer = text::Tokenizer::Get(*encoding);
  if (!tokenizer.ok()) {
    std::cerr << "ingestd tokenize: " << tokenizer.status().ToString() << "\n";
    return 1;
  }
  std::vector<std::string> files = opts.files;
  if (files.empty()) files.push_back("-");

  int rc = 0;
  std::string text;
  std::string line;
  for (const std::string& file : files) {
    if (!ReadInput(file, &text)) {
      std::cerr << "ingestd tokenize: cannot read " << file << "\n";
      rc = 1;
      continue;
    }
    if (opts.ids) {
      std::vector<uint32_t> ids = (*tokenizer)->Encode(text);
      line.clear();
      line.reserve(ids.size() * 7 + 2);
      line.push_back('[');
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) line.push_back(',');
        line.append(std::to_string(ids[i]));
      }
      line.append("]\n");
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      std::printf("%zu\t%s\n", (*tokenizer)->Count(text), file.c_str());
    }
  }
  if (std::fflush(stdout) != 0) rc = 1;
  return rc;
}

}  // namespace

void AddTokenizeCommand(CLI::App& app, GlobalOptions& /*global*/, int* exit_code) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Count or list the tokens of FILEs (standard input when none, or '-') with an OpenAI "
      "encoding. Special-token strings such as <|endoftext|> are ordinary text, as in the "
      "embeddings API.");
  // Validated in RunTokenize rather than with a CLI11 check so that a bad name exits with 2.
  cmd->add_option("--encoding", opts->encoding, "cl100k_base (default) or o200k_base");
  cmd->add_flag("--count", opts->count,
                "Print '<count>\\t<file>' per input ('-' for standard input); the default");
  cmd->add_flag("--ids", opts->ids, "Print each input's token ids as one JSON array per line");
  cmd->add_option("files", opts->files, "Input files; '-' or none reads standard input");
  cmd->callback([opts, exit_code] { *exit_code = RunTokenize(*opts); });
}

}  // namespace ingest::app
