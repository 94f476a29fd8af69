#include <gtest/gtest.h>

#include <string>

#include "ragd/status.h"

namespace ragd {

TEST(Result, HoldsAValueOrAnError) {
  Result<std::string> v(std::string("x"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "x");
  Result<std::string> e(Status::NotFound("no such thing"));
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToString(), "not found: no such thing");
}

// Never neither: an OK status without a value is a bug, reported as one.
TEST(Result, AnOkStatusWithoutAValueIsAnInternalError) {
  Result<int> r(Status::OK());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("without a value"), std::string::npos);
}

// Reading the value of an error throws with the error, instead of reading
// an empty optional.
TEST(Result, ValueOfAnErrorThrowsTheError) {
  Result<int> r(Status::Unavailable("model not loaded"));
  try {
    (void)r.value();
    FAIL() << "value() of an error returned";
  } catch (const BadResultAccess& e) {
    EXPECT_STREQ(e.what(), "Result::value() called on an error: unavailable: model not loaded");
  }
  EXPECT_THROW((void)std::move(r).value(), BadResultAccess);
}

TEST(Status, AlreadyExistsHasItsName) {
  EXPECT_EQ(Status::AlreadyExists("knowledge base 'x' already exists").ToString(),
            "already exists: knowledge base 'x' already exists");
  EXPECT_EQ(std::string(StatusCodeName(StatusCode::kInternal)), "internal error");
}

}  // namespace ragd
