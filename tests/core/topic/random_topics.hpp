// SPDX-License-Identifier: Apache-2.0
// Random topic names and filters over a tiny alphabet, so that random pairs match often
// and the edge cases (empty levels, $-topics, '#' matching the parent) come up by chance.
#pragma once

#include <random>
#include <string>

namespace midge::topic::testing {

class RandomTopics {
 public:
  explicit RandomTopics(unsigned seed) : rng_(seed) {}

  std::string name() {
    const int depth = between(1, 5);
    std::string out;
    for (int i = 0; i < depth; ++i) {
      if (i != 0) out += '/';
      out += literal();
    }
    return out.empty() ? "b" : out;  // one empty level would be "", which is invalid
  }

  std::string filter() {
    const int depth = between(1, 5);
    std::string out;
    for (int i = 0; i < depth; ++i) {
      if (i != 0) out += '/';
      if (i == depth - 1 && between(0, 3) == 0) {
        out += '#';
      } else if (between(0, 2) == 0) {
        out += '+';
      } else {
        out += literal();
      }
    }
    return out.empty() ? "b" : out;
  }

  int between(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

 private:
  std::string literal() {
    static constexpr const char* kLevels[] = {"a", "b", "c", "", "$s"};
    return kLevels[between(0, 4)];
  }

  std::mt19937 rng_;
};

}  // namespace midge::topic::testing
