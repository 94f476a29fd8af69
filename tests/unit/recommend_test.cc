// The recommendation stage's arithmetic on a catalogue small enough to
// work out by hand: rating weights, item-kNN cosines, each source's order,
// the fusion, and the readers' errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "recommend/candidates.h"
#include "recommend/rec_index.h"
#include "ragd/ingest.h"
#include "ragd/recommend.h"

namespace ragd::recommend {
namespace {

namespace fs = std::filesystem;

// Items a..e in 2 dimensions: a, b point along x; c, d along y; e between.
std::vector<Item> Catalogue() {
  return {{"a", "A", {1, 0}, ""}, {"b", "B", {0.9f, 0.1f}, ""}, {"c", "C", {0, 1}, ""},
          {"d", "D", {0.1f, 0.9f}, ""}, {"e", "E", {1, 1}, ""}};
}

Interaction Row(std::string user, std::string item, double rating, double time) {
  return {std::move(user), std::move(item), rating, time};
}

TEST(RecIndex, WeightsRatingsAboveTheUsersMean) {
  EXPECT_FLOAT_EQ(ItemWeight(std::nullopt, 3.0), 1.0f);  // implicit feedback counts fully
  EXPECT_FLOAT_EQ(ItemWeight(5.0, 4.0), 1.5f);
  EXPECT_FLOAT_EQ(ItemWeight(4.0, 4.0), 0.5f);  // a user who rates everything alike keeps a profile
  EXPECT_FLOAT_EQ(ItemWeight(2.0, 4.0), 0.0f);  // below the mean pulls nothing
}

TEST(RecIndex, HistoriesInTimeOrderAndUnknownItemsCounted) {
  std::vector<Interaction> rows = {Row("u", "c", 5, 30), Row("u", "a", 5, 10), Row("u", "zz", 5, 20),
                                   Row("v", "a", 4, 1)};
  RecIndex x = RecIndex::Build(Catalogue(), rows, 2);
  auto h = x.History("u");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(x.id(h[0].item), "a");  // time 10 before time 30, whatever the file's order
  EXPECT_EQ(x.id(h[1].item), "c");
  EXPECT_EQ(x.skipped_interactions(), 1);
  EXPECT_TRUE(x.History("nobody").empty());
  EXPECT_EQ(x.count(x.Find("a")), 2);
  EXPECT_EQ(x.id(x.ByPopularity()[0]), "a");
}

TEST(RecIndex, ItemKnnIsTheCosineOfTheItemsUserSets) {
  // a: users 1,2,3; b: users 1,2; c: user 3. cos(a,b) = 2/sqrt(3*2), cos(a,c) = 1/sqrt(3*1).
  std::vector<Interaction> rows = {Row("1", "a", 5, 1), Row("1", "b", 5, 2), Row("2", "a", 5, 1),
                                   Row("2", "b", 5, 2), Row("3", "a", 5, 1), Row("3", "c", 5, 2)};
  RecIndex x = RecIndex::Build(Catalogue(), rows, 2);
  auto n = x.Neighbours(x.Find("a"));
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(x.id(n[0].first), "b");
  EXPECT_NEAR(n[0].second, 2 / std::sqrt(6.0), 1e-6);
  EXPECT_EQ(x.id(n[1].first), "c");
  EXPECT_NEAR(n[1].second, 1 / std::sqrt(3.0), 1e-6);
  EXPECT_TRUE(x.Neighbours(x.Find("e")).empty());  // nobody had e
}

TEST(Candidates, ProfileRanksByCosineAndLeavesOutWhatWasSeen) {
  RecIndex x = RecIndex::Build(Catalogue(), {}, 2);
  CandidateRequest r;
  r.history = {{x.Find("a"), 1.0f}};
  std::vector<int> got = ProfileSource(x, r);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(x.id(got[0]), "b");  // closest to a
  EXPECT_EQ(x.id(got[1]), "e");
  EXPECT_EQ(x.id(got[3]), "c");  // orthogonal to a
  r.include_seen = true;
  EXPECT_EQ(x.id(ProfileSource(x, r)[0]), "a");
  // Filters: only c and d allowed.
  r.include_seen = false;
  r.allowed = {0, 0, 1, 1, 0};
  got = ProfileSource(x, r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(x.id(got[0]), "d");
}

TEST(Candidates, RecentHistoryOutweighsOld) {
  RecIndex x = RecIndex::Build(Catalogue(), {}, 2);
  CandidateRequest r;
  // Liked c long ago (100 events back, weight 2^-4), a just now.
  r.history.push_back({x.Find("c"), 1.0f});
  for (int i = 0; i < 99; ++i) r.history.push_back({x.Find("e"), 0.0f});
  r.history.push_back({x.Find("a"), 1.0f});
  r.include_seen = true;
  std::string top = x.id(ProfileSource(x, r)[0]);
  EXPECT_TRUE(top == "a" || top == "b") << top;  // the x side, where the recent like is
  std::swap(r.history.front(), r.history.back());  // now c is the recent one
  top = x.id(ProfileSource(x, r)[0]);
  EXPECT_TRUE(top == "c" || top == "d") << top;
}

TEST(Candidates, FusionAddsWeightedReciprocalRanks) {
  std::vector<Interaction> rows = {Row("1", "a", 5, 1), Row("1", "b", 5, 2), Row("2", "a", 5, 1),
                                   Row("2", "c", 5, 2), Row("3", "d", 5, 1)};
  RecIndex x = RecIndex::Build(Catalogue(), rows, 2);
  CandidateRequest r;
  r.history = {{x.Find("a"), 1.0f}};
  r.weights = {1, 1, 0, 0};
  r.k = 10;
  std::vector<Scored> got = FuseCandidates(x, r);
  ASSERT_FALSE(got.empty());
  // b: profile #1 and item-kNN #1 (tied with c, b has the lower number).
  EXPECT_EQ(x.id(got[0].item), "b");
  EXPECT_NEAR(got[0].score, 2 / (kRrfK + 1), 1e-12);
  EXPECT_EQ(got[0].sources.at("profile"), 1);
  EXPECT_EQ(got[0].sources.at("item_knn"), 1);
  for (const Scored& s : got) EXPECT_NE(x.id(s.item), "a");  // seen
  // Popularity alone: d and b, c once each; a (twice) is seen.
  r.weights = {0, 0, 1, 0};
  got = FuseCandidates(x, r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].sources.size(), 1u);
}

class RecordFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ragd-rec-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(RecordFiles, CatalogueRecordsBecomeDocumentsWithMetadata) {
  std::string p = Write("items.jsonl",
                        "{\"_id\": 7, \"title\": \"Dune\", \"text\": \"Desert planet.\", \"year\": 1965, \"tags\": [\"sf\"]}\n"
                        "{\"_id\": \"8\", \"title\": \"Emma\", \"text\": \"Matchmaking.\", \"year\": 1815}\n");
  auto docs = ReadRecordsFile(p);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].id, "7");
  EXPECT_EQ((*docs)[0].title, "Dune");
  EXPECT_EQ((*docs)[0].text, "Desert planet.");
  EXPECT_EQ((*docs)[0].metadata.at("year"), "1965");
  EXPECT_EQ((*docs)[1].id, "8");
}

TEST_F(RecordFiles, CatalogueErrorsNameTheRecord) {
  auto dup = ReadRecordsFile(Write("d.jsonl", "{\"id\": 1, \"text\": \"x\"}\n{\"id\": 1, \"text\": \"y\"}\n"));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("record 2 repeats id '1'"), std::string::npos) << dup.status().message();
  auto noid = ReadRecordsFile(Write("n.csv", "name,text\nx,y\n"));
  ASSERT_FALSE(noid.ok());
  EXPECT_NE(noid.status().message().find("--id-field"), std::string::npos) << noid.status().message();
  auto ext = ReadRecordsFile(Write("a.txt", "hello"));
  ASSERT_FALSE(ext.ok());
  EXPECT_NE(ext.status().message().find(".csv"), std::string::npos);
}

TEST_F(RecordFiles, InteractionsFromCsvWithRatingAndOrder) {
  auto rows = ReadInteractionsFile(Write("i.csv", "user,item,rating,order\nu1,7,5,0\nu1,8,,1\n"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].user, "u1");
  EXPECT_EQ((*rows)[0].item, "7");
  EXPECT_EQ((*rows)[0].rating, 5.0);
  EXPECT_EQ((*rows)[1].rating, std::nullopt);  // empty: implicit
  EXPECT_EQ((*rows)[1].time, 1.0);
  auto bad = ReadInteractionsFile(Write("b.csv", "user,item,rating\nu1,7,five\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("record 1: rating 'five' is not a number"), std::string::npos)
      << bad.status().message();
  auto nouser = ReadInteractionsFile(Write("c.jsonl", "{\"item\": 1}\n"));
  ASSERT_FALSE(nouser.ok());
  EXPECT_NE(nouser.status().message().find("need a user and an item"), std::string::npos);
}

}  // namespace
}  // namespace ragd::recommend
