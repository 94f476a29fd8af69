// Turns a loaded document into chunk records: splits each segment and
// computes each chunk's code-point offsets in the document's text (its
// segments joined by blank lines). A table segment is cut between rows,
// and each chunk after its first starts with the table's header (not part
// of the chunk's offsets).
#pragma once

#include <vector>

#include "ingest/document.h"
#include "ingest/splitter.h"
#include "store/store.h"

namespace ragd::ingest {

std::vector<store::ChunkWrite> ChunkDocument(const LoadedDocument& doc, const RecursiveSplitter& splitter);

}  // namespace ragd::ingest
