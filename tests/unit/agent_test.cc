// The agent's own parts that need no model: the calculator, the argument
// check against a tool's schema, read-only SQL over tables, and the task
// checkers of `ragd eval agent`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/calculator.h"
#include "agent/schema_check.h"
#include "agent/table_query.h"
#include "ragd/agent_eval.h"

namespace ragd::agent {
namespace {

using nlohmann::json;

double Calc(const char* e) {
  auto r = Calculate(e);
  EXPECT_TRUE(r.ok()) << e << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(Calculator, FollowsPrecedenceAndAssociativity) {
  EXPECT_DOUBLE_EQ(Calc("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(Calc("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(Calc("2 ^ 3 ^ 2"), 512);  // right-associative
  EXPECT_DOUBLE_EQ(Calc("2 ** 10"), 1024);
  EXPECT_DOUBLE_EQ(Calc("-2 ^ 2"), -4);
  EXPECT_DOUBLE_EQ(Calc("10 - 4 - 3"), 3);
  EXPECT_DOUBLE_EQ(Calc("7 % 4"), 3);
  EXPECT_DOUBLE_EQ(Calc("20000 * 0.05%"), 10);  // percent after an operand
  EXPECT_DOUBLE_EQ(Calc("1.5e3 / 3"), 500);
  EXPECT_DOUBLE_EQ(Calc("1200 × 2 ÷ 4"), 600);  // the signs models write
  EXPECT_DOUBLE_EQ(Calc("（1 + 1）* 3"), 6);
}

TEST(Calculator, KnowsItsFunctions) {
  EXPECT_DOUBLE_EQ(Calc("max(50, min(100000 * 0.001, 200)) + 150"), 250);  // the SWIFT fee
  EXPECT_DOUBLE_EQ(Calc("round(1234.5678, 2)"), 1234.57);
  EXPECT_DOUBLE_EQ(Calc("sqrt(16) + abs(-2)"), 6);
  EXPECT_DOUBLE_EQ(Calc("floor(2.7) + ceil(2.1)"), 5);
}

TEST(Calculator, RefusesWhatIsNotArithmetic) {
  struct Case { const char* expr; const char* message; };
  for (const Case& c : std::initializer_list<Case>{
           {"1 / 0", "division by zero"},
           {"annual_fee * 3", "unknown name 'annual_fee'"},
           {"system(\"ls\")", "unknown function 'system'"},
           {"2 +", "ends early"},
           {"(1 + 2", "missing ')'"},
           {"1 2", "unexpected '2'"},
           {"sqrt(-1)", "undefined"},
           {"round(1, 2, 3)", "takes 1 to 2 argument(s), got 3"},
           {"", "empty"},
           {"10 ^ 400", "not a finite number"}}) {
    auto r = Calculate(c.expr);
    ASSERT_FALSE(r.ok()) << c.expr;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << c.expr << ": " << r.status().message();
  }
  EXPECT_FALSE(Calculate(std::string(300, '(') + "1" + std::string(300, ')')).ok());  // too deep, not a crash
}

TEST(Calculator, FormatsNumbersAsPeopleWriteThem) {
  EXPECT_EQ(FormatNumber(2400), "2400");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(1234.5), "1234.5");
}

const json kSearchSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 1},
    "k": {"type": "integer", "minimum": 1, "maximum": 5},
    "kb": {"type": "string", "enum": ["bank", "docs"]}
  },
  "required": ["query"],
  "additionalProperties": false
})");

TEST(SchemaCheck, AcceptsValidArguments) {
  EXPECT_TRUE(CheckAgainstSchema(kSearchSchema, json{{"query", "fees"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(kSearchSchema, json{{"query", "费用"}, {"k", 3}, {"kb", "docs"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(kSearchSchema, json{{"query", "x"}, {"k", 2.0}}).ok());  // 2.0 is an integer
}

TEST(SchemaCheck, NamesWhatIsWrong) {
  struct Case { json args; const char* message; };
  for (const Case& c : std::initializer_list<Case>{
           {json::object(), "'query' is required"},
           {json{{"query", 5}}, "query: expected string, got 5"},
           {json{{"query", ""}}, "query: must be at least 1 characters long"},
           {json{{"query", "x"}, {"k", 9}}, "k: must be at most 5, got 9"},
           {json{{"query", "x"}, {"k", 1.5}}, "k: expected integer"},
           {json{{"query", "x"}, {"kb", "other"}}, "kb: must be one of"},
           {json{{"query", "x"}, {"top", 1}}, "unknown argument 'top' (known: k, kb, query)"}}) {
    Status st = CheckAgainstSchema(kSearchSchema, c.args);
    ASSERT_FALSE(st.ok()) << c.args.dump();
    EXPECT_NE(st.message().find(c.message), std::string::npos) << c.args.dump() << ": " << st.message();
  }
  Status not_object = CheckToolArguments({"search_kb", "", kSearchSchema.dump()}, json::array());
  EXPECT_NE(not_object.message().find("not a JSON object"), std::string::npos);
}

std::unique_ptr<TableDatabase> Branches() {
  KbTable t;
  t.doc_id = "/kb/branches.csv";
  t.source = "/kb/branches.csv";
  t.columns = {"branch", "city", "atms", "rate"};
  t.rows = {{"Lujiazui", "Shanghai", "6", "1.5"}, {"Guomao", "Beijing", "8", "2"}, {"Xujiahui", "Shanghai", "4", ""}};
  auto db = TableDatabase::Open({t});
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(TableQuery, TypesColumnsAndAnswersAggregates) {
  auto db = Branches();
  ASSERT_TRUE(db);
  ASSERT_EQ(db->schema().size(), 1u);
  EXPECT_EQ(db->schema()[0].name, "branches");
  EXPECT_EQ(db->schema()[0].types, (std::vector<std::string>{"TEXT", "TEXT", "INTEGER", "REAL"}));
  EXPECT_NE(db->Describe().find("branches(\"branch\" TEXT, \"city\" TEXT, \"atms\" INTEGER, \"rate\" REAL) -- 3 rows"),
            std::string::npos)
      << db->Describe();
  auto r = db->Query("SELECT city, COUNT(*) AS n, SUM(atms) AS atms FROM branches GROUP BY city ORDER BY city", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns, (std::vector<std::string>{"city", "n", "atms"}));
  EXPECT_EQ(r->rows, (std::vector<std::vector<std::string>>{{"Beijing", "1", "8"}, {"Shanghai", "2", "10"}}));
  EXPECT_EQ(r->tables, std::vector<std::string>{"branches"});
  EXPECT_EQ(FormatQueryResult(*r), "city | n | atms\nBeijing | 1 | 8\nShanghai | 2 | 10\n(2 rows)");
}

TEST(TableQuery, OnlyReadsAndStopsAtItsLimits) {
  auto db = Branches();
  ASSERT_TRUE(db);
  for (const char* sql : {"DELETE FROM branches", "DROP TABLE branches", "INSERT INTO branches VALUES(1,2,3,4)",
                          "PRAGMA writable_schema = 1", "ATTACH DATABASE '/tmp/x.db' AS x",
                          "CREATE TABLE t(x)"}) {
    auto r = db->Query(sql, {});
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << sql << ": " << r.status().ToString();
  }
  auto two = db->Query("SELECT 1; DELETE FROM branches", {});
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("one SQL statement"), std::string::npos);
  auto unknown = db->Query("SELECT annual_fee FROM platinum_card", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no such table: platinum_card"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("branches("), std::string::npos);  // the schema, to try again
  auto all = db->Query("SELECT * FROM branches", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows.size(), 3u);  // nothing was deleted
  QueryLimits one_row{1, 2};
  auto cut = db->Query("SELECT branch FROM branches ORDER BY branch", one_row);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->rows.size(), 1u);
  EXPECT_TRUE(cut->truncated);
  QueryLimits quick{50, 0.2};
  auto slow = db->Query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n", quick);
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.status().message().find("longer than the limit"), std::string::npos) << slow.status().ToString();
}

TEST(AgentEval, ReadsNumbersAsWritten) {
  EXPECT_EQ(NumbersIn("The fee is 2,400 yuan (1.5%)."), (std::vector<double>{2400, 1.5}));
  EXPECT_EQ(NumbersIn("最高1万元"), (std::vector<double>{1, 10000}));
  EXPECT_EQ(NumbersIn("up to 5 million yuan"), (std::vector<double>{5, 5e6}));
}

TEST(AgentEval, ChecksEachKindOfTask) {
  AgentTask number{"a", "arithmetic", "q", R"({"type":"number","value":250})"};
  EXPECT_TRUE(CheckAgentTask(number, "The total is 250 yuan [1].", true).pass);
  EXPECT_FALSE(CheckAgentTask(number, "The total is 200 yuan.", true).pass);
  EXPECT_FALSE(CheckAgentTask(number, "250", false).pass);  // a refusal is no answer
  AgentTask contains{"b", "two_lookup", "q", R"({"type":"contains","all":[["1200"],["16"]]})"};
  EXPECT_TRUE(CheckAgentTask(contains, "1,200 yuan; from age 16.", true).pass);
  TaskVerdict missing = CheckAgentTask(contains, "1,200 yuan.", true);
  EXPECT_FALSE(missing.pass);
  EXPECT_EQ(missing.why, "expected one of [\"16\"]");
  AgentTask refusal{"c", "refusal", "q", R"({"type":"refusal"})"};
  EXPECT_TRUE(CheckAgentTask(refusal, "not found", false).pass);
  EXPECT_FALSE(CheckAgentTask(refusal, "It is 3%.", true).pass);
}

TEST(AgentEval, TheRepositorysTaskSetIsWellFormed) {
  auto tasks = ReadAgentTasks(std::string(RAGD_SOURCE_DIR) + "/eval/agent-tasks/tasks.jsonl");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  EXPECT_GE(tasks->size(), 60u);
  std::map<std::string, int> kinds;
  for (const auto& t : *tasks) kinds[t.kind]++;
  for (const char* k : {"two_lookup", "arithmetic", "table", "refusal"}) EXPECT_GE(kinds[k], 10) << k;
}

}  // namespace
}  // namespace ragd::agent
