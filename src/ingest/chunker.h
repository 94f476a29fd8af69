// Turns a loaded document into chunk records: splits each segment and
// computes each chunk's code-point offsets in the document's text (its
// segments joined by blank lines).
#pragma once

#include <vector>

#include "ingest/document.h"
#include "ingest/splitter.h"
#include "store/store.h"

namespace ragd::ingest {

std::vector<store::ChunkWrite> ChunkDocument(const LoadedDocument& doc, const RecursiveSplitter& splitter);

}  // namespace ragd::ingest
