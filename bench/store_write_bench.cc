// Bulk writes through the PostgreSQL Store against PostgreSQL's own bulk path, in the same run:
// chunk and vector rows written per second by Store::ReplaceChunks + Store::PutVectors (one
// call each per document, as the chunk and embed stages make them) versus `psql \copy` of
// the same rows into the same (emptied) tables. The target: at least 0.5x.
//
// bench/store_write.sh creates a scratch database, migrates it and runs this program:
//   store_write_bench --url postgresql://... [--docs 20] [--chunks 200] [--dims 1536]
//                     [--rounds 3] [--dir TMPDIR]
// Prints one line per side and the ratio (best round of each). Writes only to that database.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/store/postgres/postgres_store.h"

namespace {

using ingest::store::Chunk;
using ingest::store::StoredVector;

struct Options {
  std::string url;
  int docs = 20;
  int chunks = 200;
  int dims = 1536;
  int rounds = 3;
  std::string dir = "/tmp";
};

struct Corpus {
  std::vector<ingest::store::Document> documents;
  std::vector<std::vector<Chunk>> chunks;          // per document
  std::vector<std::vector<StoredVector>> vectors;  // per document
  size_t rows = 0;
};

const ingest::store::VectorSpace& Space(int dims) {
  static const ingest::store::VectorSpace space{"text-embedding-3-small", dims};
  return space;
}

// Prose-like chunk texts of about 2 KB (a 512-token chunk) and random unit-ish vectors.
Corpus MakeCorpus(const Options& o) {
  static const char* kWords[] = {"ledger", "lease",  "worker", "vector", "chunk",   "token",
                                 "budget", "parser", "page",   "index",  "replica", "commit"};
  std::mt19937_64 rng(42);
  Corpus c;
  for (int d = 0; d < o.docs; ++d) {
    ingest::store::Document doc;
    doc.sha256 = ingest::Sha256Hex("bench document " + std::to_string(d));
    doc.id = ingest::DocumentId("bench", doc.sha256);
    doc.tenant = "bench";
    doc.filename = "bench-" + std::to_string(d) + ".md";
    doc.blob_key = doc.sha256;
    c.documents.push_back(doc);
    std::vector<Chunk> chunks;
    std::vector<StoredVector> vectors;
    for (int i = 0; i < o.chunks; ++i) {
      Chunk ch;
      ch.id = ingest::ChunkId(doc.id, "bench@1", i);
      ch.document_id = doc.id;
      ch.ordinal = i;
      ch.text = "Chunk " + std::to_string(d) + "." + std::to_string(i) + ":";
      while (ch.text.size() < 2000) {
        ch.text += ' ';
        ch.text += kWords[rng() % 12];
      }
      ch.text += "\ttab\\backslash\nnew line";  // exercise quoting on both sides
      ch.text_sha256 = ingest::Sha256Hex(ch.text);
      ch.token_count = 512;
      ch.heading_path = "Bench > Document " + std::to_string(d);
      StoredVector v;
      v.text_sha256 = ch.text_sha256;
      v.provider = "openai";
      v.values.resize(static_cast<size_t>(o.dims));
      for (float& x : v.values)
        x = static_cast<float>(static_cast<int64_t>(rng() % 2001) - 1000) / 1e4f;
      chunks.push_back(std::move(ch));
      vectors.push_back(std::move(v));
    }
    c.rows += chunks.size() + vectors.size();
    c.chunks.push_back(std::move(chunks));
    c.vectors.push_back(std::move(vectors));
  }
  return c;
}

// COPY text format: backslash, tab, newline and carriage return escaped.
std::string CopyText(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char ch : s) {
    switch (ch) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// bytea in COPY text format: "\\x" + hex of the float32 little-endian bytes (as the Store
// stores them).
std::string CopyBytea(const std::vector<float>& values) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\\\x";
  const auto* p = reinterpret_cast<const unsigned char*>(values.data());
  const size_t n = values.size() * sizeof(float);
  out.reserve(out.size() + 2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

void WriteCopyFiles(const Options& o, const Corpus& c, const std::string& chunks_path,
                    const std::string& vectors_path) {
  std::ofstream ch(chunks_path, std::ios::binary), ve(vectors_path, std::ios::binary);
  for (size_t d = 0; d < c.chunks.size(); ++d) {
    for (const Chunk& k : c.chunks[d]) {
      ch << k.id << '\t' << k.document_id << '\t' << k.ordinal << '\t' << CopyText(k.text) << '\t'
         << k.text_sha256 << '\t' << k.token_count << '\t' << CopyText(k.heading_path) << '\t'
         << k.page_start << '\t' << k.page_end << '\n';
    }
    for (const StoredVector& v : c.vectors[d]) {
      ve << "text-embedding-3-small\t" << o.dims << '\t' << v.text_sha256 << '\t' << v.provider
         << '\t' << CopyBytea(v.values) << "\t0\n";
    }
  }
}

int Psql(const Options& o, const std::string& command) {
  const std::string cmd = "psql '" + o.url + "' -XAtq -v ON_ERROR_STOP=1 -c \"" + command + "\"";
  return std::system(cmd.c_str());
}

// md5 over every chunk and vector column the two sides both write (not vectors.created_at).
std::string TablesDigest(const Options& o) {
  const std::string cmd =
      "psql '" + o.url +
      "' -XAtq -v ON_ERROR_STOP=1 -c \"SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT "
      "concat_ws('|', id, document_id, ordinal, text, text_sha256, token_count, heading_path, "
      "page_start, page_end) AS x FROM chunks UNION ALL SELECT concat_ws('|', model, dimensions, "
      "text_sha256, provider, md5(vector)) FROM vectors) t\"";
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, f) != nullptr) out += buf;
    pclose(f);
  }
  return out;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      o->url = v;
    else if (k == "--docs")
      o->docs = std::atoi(v.c_str());
    else if (k == "--chunks")
      o->chunks = std::atoi(v.c_str());
    else if (k == "--dims")
      o->dims = std::atoi(v.c_str());
    else if (k == "--rounds")
      o->rounds = std::atoi(v.c_str());
    else if (k == "--dir")
      o->dir = v;
    else
      return false;
  }
  return !o->url.empty() && o->docs > 0 && o->chunks > 0 && o->dims > 0 && o->rounds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: store_write_bench --url postgresql://... [--docs N] [--chunks N] "
                 "[--dims N] [--rounds N] [--dir DIR]\n(bench/store_write.sh runs it)\n");
    return 2;
  }
  ingest::store::PostgresStoreOptions po;
  po.url = o.url;
  auto store_or = ingest::store::OpenPostgresStore(po, ingest::Clock::Real());
  if (!store_or.ok()) {
    std::fprintf(stderr, "%s\n", store_or.status().ToString().c_str());
    return 1;
  }
  ingest::store::Store& store = **store_or;
  if (auto st = store.CheckSchemaCurrent(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  const Corpus corpus = MakeCorpus(o);
  for (const auto& doc : corpus.documents) {
    ingest::store::Job job;
    job.id = ingest::JobId(doc.id);
    job.document_id = doc.id;
    if (auto r = store.SubmitDocument(doc, job); !r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  const std::string chunks_path = o.dir + "/store_write_chunks.copy";
  const std::string vectors_path = o.dir + "/store_write_vectors.copy";
  WriteCopyFiles(o, corpus, chunks_path, vectors_path);
  const std::string truncate = "TRUNCATE chunks, vectors";

  double best_store = 1e18, best_copy = 1e18;
  std::string store_digest, copy_digest;
  for (int r = 0; r < o.rounds; ++r) {
    // Same starting state for both sides: empty tables, statistics as after a truncate.
    if (Psql(o, truncate) != 0) return 1;
    auto t0 = std::chrono::steady_clock::now();
    for (size_t d = 0; d < corpus.documents.size(); ++d) {
      const auto& doc = corpus.documents[d];
      if (auto st = store.ReplaceChunks(doc.id, corpus.chunks[d]); !st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        return 1;
      }
      if (auto st = store.PutVectors(Space(o.dims), corpus.vectors[d]); !st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        return 1;
      }
    }
    best_store = std::min(best_store, Seconds(t0));
    if (r == 0) store_digest = TablesDigest(o);

    if (Psql(o, truncate) != 0) return 1;
    t0 = std::chrono::steady_clock::now();
    if (Psql(o,
             "\\copy chunks (id, document_id, ordinal, text, text_sha256, token_count, "
             "heading_path, page_start, page_end) FROM '" +
                 chunks_path + "'") != 0 ||
        Psql(o,
             "\\copy vectors (model, dimensions, text_sha256, provider, vector, created_at) "
             "FROM '" +
                 vectors_path + "'") != 0) {
      return 1;
    }
    best_copy = std::min(best_copy, Seconds(t0));
    if (r == 0) copy_digest = TablesDigest(o);
  }
  // Both sides must have written the same rows, or the comparison means nothing.
  if (store_digest.empty() || store_digest != copy_digest) {
    std::fprintf(stderr, "the Store and COPY wrote different rows (%s vs %s)\n",
                 store_digest.c_str(), copy_digest.c_str());
    return 1;
  }
  const double rows = static_cast<double>(corpus.rows);
  std::printf("rows: %zu (%d documents x %d chunks + as many %d-dim vectors), best of %d rounds\n",
              corpus.rows, o.docs, o.chunks, o.dims, o.rounds);
  std::printf("Store ReplaceChunks + PutVectors: %9.0f rows/s (%.3f s)\n", rows / best_store,
              best_store);
  std::printf("psql \\copy (same rows):           %9.0f rows/s (%.3f s)\n", rows / best_copy,
              best_copy);
  std::printf("ratio Store / COPY: %.2fx (target >= 0.50x)\n", best_copy / best_store);
  std::remove(chunks_path.c_str());
  std::remove(vectors_path.c_str());
  return 0;
}
