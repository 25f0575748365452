#include "ingest/search/space_choice.h"

namespace ingest::search {

std::string DescribeSpaces(std::span<const store::IndexedSpace> held) {
  std::string out;
  for (const store::IndexedSpace& s : held) {
    if (!out.empty()) out += ", ";
    out += s.space.model + " (" + std::to_string(s.space.dimensions) + " dims, " +
           std::to_string(s.documents) + (s.documents == 1 ? " document)" : " documents)");
  }
  return out;
}

Result<store::VectorSpace> ChooseSearchSpace(std::span<const store::IndexedSpace> held,
                                             const std::optional<store::VectorSpace>& wanted,
                                             std::string_view how_to_choose) {
  if (held.empty()) {
    return FailedPrecondition("the store holds no searchable documents yet", "store_empty");
  }
  if (wanted) {
    for (const store::IndexedSpace& s : held) {
      if (s.space.model == wanted->model &&
          (wanted->dimensions == 0 || s.space.dimensions == wanted->dimensions)) {
        return s.space;
      }
    }
    const std::string dims =
        wanted->dimensions > 0 ? " (" + std::to_string(wanted->dimensions) + " dims)" : "";
    return FailedPrecondition("no document is indexed in " + wanted->model + dims +
                                  "; the store holds " + DescribeSpaces(held) + ". " +
                                  std::string(how_to_choose),
                              "space_not_indexed");
  }
  if (held.size() == 1) return held.front().space;
  return FailedPrecondition("the store holds " + std::to_string(held.size()) +
                                " embedding spaces: " + DescribeSpaces(held) + ". " +
                                std::string(how_to_choose),
                            "ambiguous_space");
}

}  // namespace ingest::search
