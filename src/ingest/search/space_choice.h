// Which embedding space a search runs in (DESIGN §4: spaces are never mixed). A store knows the
// spaces its documents are indexed in (Store::ListIndexedSpaces); a query must be embedded in
// one of them, or it can only find nothing.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ingest/common/result.h"
#include "ingest/store/store.h"

namespace ingest::search {

// Picks the space among `held` (what the store's index holds, most documents first):
//   - `wanted` set (the user chose a space through configuration or --space): that space when
//     held; a `wanted` with dimensions 0 matches the held space of that model;
//   - otherwise the only held space.
// Errors, each naming the held spaces (with their document counts) and `how_to_choose`:
//   kFailedPrecondition "store_empty"       nothing is indexed (yet);
//   kFailedPrecondition "space_not_indexed" `wanted` is not among `held`;
//   kFailedPrecondition "ambiguous_space"   no `wanted` and more than one held.
Result<store::VectorSpace> ChooseSearchSpace(std::span<const store::IndexedSpace> held,
                                             const std::optional<store::VectorSpace>& wanted,
                                             std::string_view how_to_choose);

// "text-embedding-3-small (1536 dims, 12 documents), lexical-v1 (384 dims, 3 documents)".
std::string DescribeSpaces(std::span<const store::IndexedSpace> held);

}  // namespace ingest::search
