// PostgreSQL blobs against the local blob folder, in the same run (issue 15):
//   throughput  upload (PutFile) and read (LocalPath on a cold cache, then reading the file as a
//               parser does) MB/s for 1 MB and 50 MB files, folder vs PostgreSQL
//   rss         peak resident memory of one process that stores and reads back one file of
//               --size-mb through one store; run once per size: the goal is an RSS that does
//               not grow with the file
//
// bench/blobs.sh creates a scratch database, migrates it and runs this program:
//   blobs_bench throughput --url postgresql://... --dir TMPDIR [--rounds 3]
//   blobs_bench rss --store postgres|folder [--url ...] --dir TMPDIR --size-mb 100
// Writes only to that database and under TMPDIR.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/store/blobs/postgres_blob_store.h"
#include "ingest/store/fs_blob_store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string url;
  std::string dir = "/tmp";
  std::string store = "postgres";
  int rounds = 3;
  int64_t size_mb = 100;
};

// A file of `bytes` pseudo-random bytes, written 1 MiB at a time.
std::string MakeFile(const std::string& path, int64_t bytes, uint32_t seed) {
  std::ofstream out(path, std::ios::binary);
  std::mt19937_64 rng(seed);
  std::string buf;
  for (int64_t left = bytes; left > 0;) {
    const int64_t n = std::min<int64_t>(left, 1 << 20);
    buf.resize(static_cast<size_t>(n));
    for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(buf.data() + i, &v, 8);
    }
    out.write(buf.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  return path;
}

// Reads the whole file through one 1 MiB buffer (as a parser streaming its input would).
int64_t ReadThrough(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string buf(1 << 20, '\0');
  int64_t total = 0;
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    total += in.gcount();
  }
  return total;
}

// A handle on the store under `dir` (folder) or on the database, with its cache in `cache`: a
// second handle with another cache reads cold, as a worker on another machine does.
std::unique_ptr<ingest::store::BlobStore> Open(const Options& o, const std::string& kind,
                                               const std::string& dir, const std::string& cache) {
  if (kind == "folder") return std::make_unique<ingest::store::FsBlobStore>(dir + "/blobs");
  ingest::store::PostgresBlobStoreOptions pg;
  pg.url = o.url;
  pg.cache.dir = cache;
  pg.cache.max_bytes = int64_t{4} << 30;
  auto s = ingest::store::OpenPostgresBlobStore(pg);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int Throughput(const Options& o) {
  struct Case {
    int64_t bytes;
    int files;
  };
  const std::vector<Case> cases = {{int64_t{1} << 20, 32}, {int64_t{50} << 20, 2}};
  std::printf("%-8s %-10s %12s %12s\n", "size", "store", "upload MB/s", "read MB/s");
  uint32_t seed = 1;
  for (const Case& c : cases) {
    for (const std::string kind : {"folder", "postgres"}) {
      double best_up = 0, best_read = 0;
      for (int round = 0; round < o.rounds; ++round) {
        const std::string work =
            o.dir + "/" + kind + "-" + std::to_string(round) + "-" + std::to_string(c.bytes);
        fs::create_directories(work + "/in");
        std::vector<std::string> files;
        for (int i = 0; i < c.files; ++i) {
          files.push_back(
              MakeFile(work + "/in/f" + std::to_string(i), c.bytes, seed++));  // distinct content
        }
        auto store = Open(o, kind, work, work + "/cache");
        std::vector<std::string> keys;
        const auto t0 = Clock::now();
        for (const auto& f : files) {
          auto k = store->PutFile(f);
          if (!k.ok()) {
            std::fprintf(stderr, "put: %s\n", k.status().ToString().c_str());
            return 1;
          }
          keys.push_back(*k);
        }
        const auto t1 = Clock::now();
        auto reader = Open(o, kind, work, work + "/reader-cache");  // a cold cache
        int64_t read = 0;
        for (const auto& k : keys) {
          auto p = reader->LocalPath(k);
          if (!p.ok()) {
            std::fprintf(stderr, "read: %s\n", p.status().ToString().c_str());
            return 1;
          }
          read += ReadThrough(*p);
        }
        const auto t2 = Clock::now();
        const double mb = static_cast<double>(c.bytes) * c.files / 1e6;
        if (read != c.bytes * c.files) {
          std::fprintf(stderr, "read %lld bytes, expected %lld\n", static_cast<long long>(read),
                       static_cast<long long>(c.bytes * c.files));
          return 1;
        }
        best_up = std::max(best_up, mb / Seconds(t0, t1));
        best_read = std::max(best_read, mb / Seconds(t1, t2));
        for (const auto& k : keys) (void)store->Delete(k);
        fs::remove_all(work);
      }
      std::printf("%-8s %-10s %12.1f %12.1f\n", c.bytes == (1 << 20) ? "1 MB" : "50 MB",
                  kind.c_str(), best_up, best_read);
      std::fflush(stdout);
    }
  }
  return 0;
}

long PeakRssKb() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int Rss(const Options& o) {
  const std::string work = o.dir + "/rss-" + o.store + "-" + std::to_string(o.size_mb);
  fs::create_directories(work);
  const std::string file = MakeFile(work + "/in.bin", o.size_mb << 20, 42);
  auto store = Open(o, o.store, work, work + "/cache");
  const long before = PeakRssKb();
  auto key = store->PutFile(file);
  if (!key.ok()) {
    std::fprintf(stderr, "put: %s\n", key.status().ToString().c_str());
    return 1;
  }
  auto reader = Open(o, o.store, work, work + "/reader-cache");
  auto path = reader->LocalPath(*key);
  if (!path.ok()) {
    std::fprintf(stderr, "read: %s\n", path.status().ToString().c_str());
    return 1;
  }
  const bool same = ReadThrough(*path) == (o.size_mb << 20);
  const long peak = PeakRssKb();
  std::printf("%-8s %6lld MB  peak RSS %6.1f MB (%.1f MB before the put)%s\n", o.store.c_str(),
              static_cast<long long>(o.size_mb), peak / 1024.0, before / 1024.0,
              same ? "" : "  READ MISMATCH");
  (void)store->Delete(*key);
  fs::remove_all(work);
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    std::fprintf(stderr, "usage: blobs_bench throughput|rss [--url U] [--dir D] ...\n");
    return 2;
  }
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--url")
      o.url = v;
    else if (k == "--dir")
      o.dir = v;
    else if (k == "--store")
      o.store = v;
    else if (k == "--rounds")
      o.rounds = std::atoi(v.c_str());
    else if (k == "--size-mb")
      o.size_mb = std::atoll(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.mode == "throughput") return Throughput(o);
  if (o.mode == "rss") return Rss(o);
  std::fprintf(stderr, "unknown mode %s\n", o.mode.c_str());
  return 2;
}
