#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "models/serialized_models.h"

namespace ragd::models {
namespace {

// The order in which turns were taken, written under a lock.
struct Order {
  std::mutex mu;
  std::vector<std::string> got;
  void Add(std::string s) {
    std::lock_guard lock(mu);
    got.push_back(std::move(s));
  }
};

void WaitForWaiters(const EmbedTurns& turns, size_t n) {
  while (turns.waiting() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// An ingest that goes straight from one slice to the next does not keep the
// embedder: a search that asked during the slice goes first. (A plain mutex
// hands it back to the ingest, which took it again before the search woke.)
TEST(EmbedTurns, AQueryWaitingDuringASliceGoesBeforeTheNextSlice) {
  EmbedTurns turns;
  Order order;
  std::optional<EmbedTurns::Turn> slice;
  slice.emplace(turns, /*query=*/false);
  std::thread search([&] {
    EmbedTurns::Turn t(turns, /*query=*/true);
    order.Add("query");
  });
  WaitForWaiters(turns, 1);
  slice.reset();
  {
    EmbedTurns::Turn next(turns, /*query=*/false);
    order.Add("next slice");
  }
  search.join();
  EXPECT_EQ(order.got, (std::vector<std::string>{"query", "next slice"}));
}

// And searches do not starve the ingest: a slice that asked before a query
// goes before it, so between two slices run only the queries that were
// already waiting. (Queries first, always, would never let the ingest in
// while 8 clients search.)
TEST(EmbedTurns, ASliceWaitingBeforeAQueryGoesFirst) {
  EmbedTurns turns;
  Order order;
  std::optional<EmbedTurns::Turn> first;
  first.emplace(turns, /*query=*/true);
  std::thread ingest([&] {
    EmbedTurns::Turn t(turns, /*query=*/false);
    order.Add("slice");
  });
  WaitForWaiters(turns, 1);
  std::thread later([&] {
    EmbedTurns::Turn t(turns, /*query=*/true);
    order.Add("later query");
  });
  WaitForWaiters(turns, 2);
  first.reset();
  ingest.join();
  later.join();
  EXPECT_EQ(order.got, (std::vector<std::string>{"slice", "later query"}));
}

// One caller at a time, whatever the mix.
TEST(EmbedTurns, NeverTwoCallersAtOnce) {
  EmbedTurns turns;
  int inside = 0, most = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      for (int n = 0; n < 200; ++n) {
        EmbedTurns::Turn t(turns, /*query=*/i % 3 != 0);
        most = std::max(most, ++inside);
        --inside;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(most, 1);
  EXPECT_EQ(turns.waiting(), 0u);
}

}  // namespace
}  // namespace ragd::models
