// SPDX-License-Identifier: Apache-2.0
// A first-in first-out queue on one vector. std::deque allocates a map and a 512-byte node
// as soon as it is constructed; an idle session holds two queues, and memory per idle
// client is a headline figure, so this allocates nothing until the first push.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace midge {

template <typename T>
class Fifo {
 public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }
  T& front() noexcept { return items_[head_]; }
  void push_back(T value) { items_.push_back(std::move(value)); }
  void pop_front() {
    items_[head_] = T();
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 32 && head_ * 2 >= items_.size()) {
      // Amortised compaction keeps pop_front O(1) without letting dead slots pile up.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() noexcept {
    items_.clear();
    head_ = 0;
    if (items_.capacity() > 64) std::vector<T>().swap(items_);
  }
  auto begin() noexcept { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() noexcept { return items_.end(); }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace midge
