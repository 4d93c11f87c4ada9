// SPDX-License-Identifier: Apache-2.0
#include "core/util/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

namespace midge {
namespace {

// A value type with no default constructor, like a decoded view that must be built from
// its buffer: Result must hold it without asking for a placeholder.
class Handle {
 public:
  explicit Handle(int id) : id_(id) {}
  int id() const { return id_; }

 private:
  int id_;
};
static_assert(!std::is_default_constructible_v<Handle>);

Result<Handle> openHandle(int id) {
  if (id < 0) return Error{ErrorKind::ProtocolError, "negative id"};
  return Handle(id);
}

TEST(Result, HoldsValueWithoutDefaultConstructor) {
  Result<Handle> handle = openHandle(7);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(handle->id(), 7);
  EXPECT_EQ((*handle).id(), 7);
}

TEST(Result, ErrorWithoutDefaultConstructibleValue) {
  Result<Handle> handle = openHandle(-1);
  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error().kind, ErrorKind::ProtocolError);
  EXPECT_STREQ(handle.error().detail, "negative id");
}

TEST(Result, CopiesAndMovesKeepTheValue) {
  Result<Handle> original = openHandle(3);
  Result<Handle> copy = original;
  Result<Handle> failed = openHandle(-1);
  failed = copy;
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->id(), 3);
}

TEST(Result, MoveOnlyValueCanBeTakenOut) {
  Result<std::unique_ptr<std::string>> owned = std::make_unique<std::string>("payload");
  ASSERT_TRUE(owned.ok());
  std::unique_ptr<std::string> taken = std::move(owned).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "payload");
}

Status checkPositive(int n) {
  if (n <= 0) return Error{ErrorKind::Malformed, "not positive"};
  return Status::success();
}

Status tryTwice(int a, int b) {
  MIDGE_TRY(checkPositive(a));
  MIDGE_TRY(checkPositive(b));
  return Status::success();
}

TEST(Result, TryReturnsTheFirstError) {
  EXPECT_TRUE(tryTwice(1, 2).ok());
  Status failed = tryTwice(1, 0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::Malformed);
  EXPECT_STREQ(errorKindName(failed.error().kind), "malformed packet");
}

}  // namespace
}  // namespace midge
