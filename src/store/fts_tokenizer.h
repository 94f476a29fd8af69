// Registers ragd's Analyzer as the FTS5 tokenizer "ragd" on a connection.
#pragma once

#include <sqlite3.h>

#include "ragd/status.h"

namespace ragd::store {

Status RegisterFtsTokenizer(sqlite3* db);

}  // namespace ragd::store
